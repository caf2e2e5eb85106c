using System.CommandLine;
using System.Runtime.InteropServices;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Images;
using VlmTune.Images.Png;
using VlmTune.Processing;
using VlmTune.Tensors;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune preprocess`: runs the model's image processor on images and writes what the vision tower would receive:
/// <c>pixel_values</c> (N, 3, M, M) F32, <c>rows</c> / <c>cols</c> (images) I64 and <c>tile_mask</c> (N) BOOL into one
/// safetensors file (atomic write), optionally each tile as a PNG. N = tiles of all images, M = tile edge.
/// </summary>
public static class PreprocessCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory (preprocessor_config.json, processor_config.json).", Required = true };
        var images = new Option<string[]>("--image") { Description = "An input image (PNG or JPEG); repeat for several.", Required = true };
        var output = new Option<string>("--out") { Description = "Output .safetensors file.", Required = true };
        var tiles = new Option<string?>("--save-tiles") { Description = "Also write every tile as a PNG into this folder." };
        var nonRgb = ImageOptions.CreateNonRgbImages(takesAdapter: false);
        var command = new Command("preprocess", "Process images as the model sees them and save the pixel values.");
        foreach (var o in new Option[] { model, images, output, tiles, nonRgb }) command.Options.Add(o);
        command.SetAction(r =>
        {
            Training.RunDirectory.CheckOutputPath(r.GetValue(output)!, "--out", folder: false);
            return Run(r.GetValue(model)!, r.GetValue(images)!, r.GetValue(output)!, r.GetValue(tiles), r.GetValue(nonRgb));
        });
        return command;
    }

    static int Run(string modelDir, string[] imagePaths, string output, string? tilesDir, string? nonRgbImages)
    {
        string preprocessor = Path.Combine(modelDir, "preprocessor_config.json");
        if (!File.Exists(preprocessor)) throw new UserErrorException($"{preprocessor}: not found (is --model a model directory?)");
        string processorJson = Path.Combine(modelDir, "processor_config.json");
        var config = ImageProcessorConfig.Load(preprocessor, File.Exists(processorJson) ? processorJson : null)
            with { NonRgbImages = ImageOptions.Resolve(nonRgbImages, null) };
        var processor = new SmolVlmImageProcessor(config);
        var expander = new ImagePromptExpander(config);

        var decoded = imagePaths.Select(ImageOptions.Open).ToArray();
        var processed = ImageOptions.Process(processor, decoded, imagePaths);
        int n = processed.TileCount, m = processed.TileSize;
        for (int i = 0; i < decoded.Length; i++)
        {
            int rows = processed.ImageRows[i], cols = processed.ImageCols[i];
            string grid = rows == 0 ? "not split" : $"{rows}x{cols} tiles + global";
            Console.WriteLine($"image {i}: {imagePaths[i]} {decoded[i].Width}x{decoded[i].Height} → {grid} " +
                              $"({processed.TilesOf(i)} tile(s), {expander.ImageTokenCount(rows, cols)} <image> tokens)");
        }

        var writer = new SafeTensorsWriter { Metadata = new() { ["format"] = "vlmtune-preprocess", ["images"] = string.Join("\n", imagePaths) } };
        writer.Add("pixel_values", DType.F32, [n, 3, m, m], MemoryMarshal.AsBytes(processed.PixelValues.AsSpan()).ToArray());
        writer.Add("rows", DType.I64, [decoded.Length], MemoryMarshal.AsBytes(processed.ImageRows.Select(x => (long)x).ToArray().AsSpan()).ToArray());
        writer.Add("cols", DType.I64, [decoded.Length], MemoryMarshal.AsBytes(processed.ImageCols.Select(x => (long)x).ToArray().AsSpan()).ToArray());
        writer.Add("tile_mask", "BOOL", [n], processed.TileMask.Select(b => b ? (byte)1 : (byte)0).ToArray());
        writer.WriteFile(output);
        Console.WriteLine($"wrote {output}: pixel_values [{n}, 3, {m}, {m}] F32, rows/cols [{decoded.Length}] I64, tile_mask [{n}] BOOL");

        if (tilesDir is not null)
        {
            Directory.CreateDirectory(tilesDir);
            int written = 0;
            for (int i = 0; i < decoded.Length; i++)
            {
                var tiled = processor.Tile(decoded[i]);
                for (int k = 0; k < tiled.TileCount; k++, written++)
                {
                    string name = k == tiled.TileCount - 1 ? $"image{i}_global.png" : $"image{i}_r{k / tiled.Cols + 1}_c{k % tiled.Cols + 1}.png";
                    PngEncoder.Save(tiled.Tile(k), Path.Combine(tilesDir, name));
                }
            }
            Console.WriteLine($"wrote {written} tile PNG(s) to {tilesDir}");
        }
        return 0;
    }
}
