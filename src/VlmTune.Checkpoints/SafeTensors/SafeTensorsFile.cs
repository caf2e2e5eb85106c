using System.IO.MemoryMappedFiles;

namespace VlmTune.Checkpoints.SafeTensors;

/// <summary>
/// A read-only, memory-mapped safetensors file. <see cref="Open"/> maps the file and validates the header (see
/// <c>SafeTensorsHeader</c> for the rules) without touching the tensor bytes, so opening a 500 MB checkpoint costs
/// a few milliseconds; tensor bytes are paged in by the OS when a span over them is read.
///
/// Lifetime: every span returned by <see cref="GetBytes(string)"/> points into the mapping and is valid only until
/// <see cref="Dispose"/>; copy what must outlive the file (<see cref="CopyTo"/>). Not thread-safe to dispose while
/// another thread reads; concurrent reads are fine.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly SafeTensorsHeader _header;
    private byte* _base;
    private bool _disposed;

    /// <summary>Full path of the mapped file.</summary>
    public string Path { get; }

    /// <summary>File size in bytes.</summary>
    public long Length { get; }

    /// <summary>Tensor names in file order (ascending data offset).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Validated tensor entries in file order.</summary>
    public IReadOnlyList<TensorInfo> Tensors => _header.TensorsByOffset;

    /// <summary>The header's <c>__metadata__</c> map (empty when absent), e.g. {"format": "pt"}.</summary>
    public IReadOnlyDictionary<string, string> Metadata => _header.Metadata;

    /// <summary>Length of the JSON header in bytes (the u64 at offset 0); tensor data starts at 8 + this.</summary>
    public long HeaderLength => _header.HeaderLength;

    private SafeTensorsFile(string path, long length, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePtr, SafeTensorsHeader header)
    {
        Path = path;
        Length = length;
        _map = map;
        _view = view;
        _base = basePtr;
        _header = header;
        Names = header.TensorsByOffset.Select(t => t.Name).ToArray();
    }

    /// <summary>
    /// Maps <paramref name="path"/> read-only and validates its header.
    /// Throws <see cref="FileNotFoundException"/> when it does not exist and <see cref="SafeTensorsFormatException"/>
    /// when it is not a valid safetensors file.
    /// </summary>
    public static SafeTensorsFile Open(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"safetensors file not found: {full}", full);
        var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.RandomAccess);
        long length = stream.Length;
        if (length < 8)
        {
            stream.Dispose();
            throw new SafeTensorsFormatException(full, null, $"file is {length} bytes, shorter than the 8-byte header length field");
        }

        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        bool acquired = false;
        try
        {
            map = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read,
                HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* ptr = null;
            // SAFETY: the pointer stays acquired until Dispose releases it; every access below is bounds-checked
            // against Length (header) or a validated TensorInfo (data).
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref ptr);
            acquired = true;
            ptr += view.PointerOffset;
            int prefixLength = (int)Math.Min(length, 8 + SafeTensorsHeader.MaxHeaderLength);
            var header = SafeTensorsHeader.Parse(new ReadOnlySpan<byte>(ptr, prefixLength), length, full);
            return new SafeTensorsFile(full, length, map, view, ptr, header);
        }
        catch
        {
            if (acquired) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map?.Dispose();
            stream.Dispose();
            throw;
        }
    }

    /// <summary>True when the file holds a tensor called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _header.TensorsByName.ContainsKey(name);

    /// <summary>The entry for <paramref name="name"/>, or null when the file has no such tensor.</summary>
    public TensorInfo? TryGetInfo(string name) => _header.TensorsByName.GetValueOrDefault(name);

    /// <summary>The entry for <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> naming the file.</summary>
    public TensorInfo GetInfo(string name) =>
        TryGetInfo(name) ?? throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    /// <summary>
    /// Zero-copy view of the tensor's bytes (little-endian, row-major). Valid until <see cref="Dispose"/>.
    /// Tensors over 2 GiB do not fit a span: read them in pieces with <see cref="GetBytes(string, long, int)"/>.
    /// </summary>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        var info = GetInfo(name);
        if (info.ByteLength > int.MaxValue)
            throw new NotSupportedException($"{Path}: tensor '{name}' is {info.ByteLength} bytes, more than one span can hold; read it in pieces");
        return GetBytes(name, 0, (int)info.ByteLength);
    }

    /// <summary>Zero-copy view of <paramref name="count"/> bytes starting <paramref name="start"/> bytes into the tensor.</summary>
    public ReadOnlySpan<byte> GetBytes(string name, long start, int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var info = GetInfo(name);
        if (start < 0 || count < 0 || start > info.ByteLength - count)
            throw new ArgumentOutOfRangeException(nameof(start), $"bytes [{start}, {start + count}) outside tensor '{name}' of {info.ByteLength} bytes");
        // SAFETY: ByteOffset + ByteLength ≤ Length was validated when the header was parsed.
        return new ReadOnlySpan<byte>(_base + info.ByteOffset + start, count);
    }

    /// <summary>Copies the tensor's bytes into <paramref name="destination"/>, whose length must equal ByteLength.</summary>
    public void CopyTo(string name, Span<byte> destination)
    {
        var info = GetInfo(name);
        if (destination.Length != info.ByteLength)
            throw new ArgumentException($"{Path}: tensor '{name}' is {info.ByteLength} bytes, destination is {destination.Length}", nameof(destination));
        GetBytes(name, 0, destination.Length).CopyTo(destination);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
