using System.Diagnostics;
using VlmTune.Training;

namespace VlmTune.Cli.Tests;

/// <summary>
/// The run directory's lifecycle through `vlmtune sft/dpo` on the tiny fixture model: signals, reruns (refused,
/// extended, fresh), damaged checkpoints and caches, the lock, restarts without a checkpoint, warnings, bad outputs.
/// </summary>
[Collection("console")]
public class RunLifecycleTests : IDisposable
{
    readonly string _tmp = Path.Combine(Path.GetTempPath(), $"vlmtune-life-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_tmp)) Directory.Delete(_tmp, true);
    }

    static string Root => CliHarness.RepoRoot();

    string[] Sft(int steps, string? output = null, params string[] more) =>
    [
        "sft", Path.Combine(Root, "recipes/tiny/sft.yaml"),
        "--set", $"model.path={Path.Combine(Root, "tests/fixtures/model/tiny")}",
        "--set", $"data.train={Path.Combine(Root, "tests/fixtures/data/sft.jsonl")}",
        "--set", $"output.dir={output ?? _tmp}",
        "--set", $"train.max_steps={steps}",
        "--set", "train.batch_size=2",
        .. more,
    ];

    string[] Dpo(int steps) =>
    [
        "dpo", Path.Combine(Root, "recipes/tiny/dpo.yaml"),
        "--set", $"model.path={Path.Combine(Root, "tests/fixtures/model/tiny")}",
        "--set", $"data.train={Path.Combine(Root, "tests/fixtures/data/dpo.jsonl")}",
        "--set", $"output.dir={_tmp}",
        "--set", $"train.max_steps={steps}",
    ];

    int[] MetricSteps() => File.ReadAllLines(Path.Combine(_tmp, "metrics.jsonl"))
        .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt32()).ToArray();

    /// <summary>This run's log (train.log is appended to by every run into the folder: only the last run's part).</summary>
    string Log
    {
        get
        {
            string text = File.ReadAllText(Path.Combine(_tmp, "train.log"));
            int at = text.LastIndexOf(" run → ", StringComparison.Ordinal);
            return at < 0 ? text : text[at..];
        }
    }

    string Resolved => File.ReadAllText(Path.Combine(_tmp, "recipe.resolved.yaml"));

    [Fact]
    public void Changed_recipe_is_refused_without_touching_the_run_extend_continues_and_no_resume_starts_afresh()
    {
        var (code, output, err) = CliHarness.Run(Sft(2));
        Assert.True(code == 0, err + output);
        string before = Resolved;

        // A different configuration: refused, and the recorded recipe is not replaced by the rejected one.
        (code, output, err) = CliHarness.Run(Sft(2, null, "--set", "lora.dropout=0.1"));
        Assert.Equal(1, code);
        Assert.Contains("different configuration", err);
        Assert.Contains("--no-resume", err);
        Assert.Equal(before, Resolved);

        // Only the length changed: refused without --extend (naming it), continued with it.
        (code, _, err) = CliHarness.Run(Sft(4));
        Assert.Equal(1, code);
        Assert.Contains("--extend", err);
        Assert.Equal(before, Resolved);
        (code, output, err) = CliHarness.Run([.. Sft(4), "--extend"]);
        Assert.True(code == 0, err + output);
        Assert.Contains("at step 2", Log);
        Assert.Equal([1, 2, 3, 4], MetricSteps());
        Assert.Contains("max_steps: 4", Resolved);

        // --no-resume: lists what it removes, then a fresh run (no resume line, metrics from step 1 only).
        (code, output, err) = CliHarness.Run([.. Sft(3, null, "--set", "lora.dropout=0.1"), "--no-resume", "--yes"]);
        Assert.True(code == 0, err + output);
        Assert.Contains("--no-resume: removing", output);
        Assert.Contains("checkpoints/", output);
        Assert.DoesNotContain("resumed from", Log);
        Assert.Equal([1, 2, 3], MetricSteps());
    }

    [Fact]
    public void A_truncated_latest_checkpoint_falls_back_to_the_previous_one_and_metrics_keep_each_step_once()
    {
        string[] args = [.. Sft(4), "--set", "checkpoint.every_steps=1", "--set", "checkpoint.keep_last=2"];
        var (code, output, err) = CliHarness.Run(args);
        Assert.True(code == 0, err + output);
        string state = Path.Combine(_tmp, "checkpoints/checkpoint-000004/state.safetensors");
        File.WriteAllBytes(state, File.ReadAllBytes(state)[..100]);
        Directory.Delete(Path.Combine(_tmp, "adapter"), true);

        (code, output, err) = CliHarness.Run(args);
        Assert.True(code == 0, err + output);
        Assert.Contains("unreadable", Log);
        Assert.Contains("resumed from " + Path.Combine(_tmp, "checkpoints/checkpoint-000003"), Log);
        Assert.Contains("lines after step 3 dropped", Log);
        Assert.Equal([1, 2, 3, 4], MetricSteps());
        Assert.True(File.Exists(Path.Combine(_tmp, "adapter/adapter_model.safetensors")));
        Assert.True(Directory.Exists(Path.Combine(_tmp, "checkpoints/checkpoint-000004.unreadable")));
    }

    [Fact]
    public void A_restart_without_a_checkpoint_says_so_and_starts_metrics_afresh_and_stale_temp_folders_go()
    {
        Directory.CreateDirectory(Path.Combine(_tmp, "checkpoints/checkpoint-000003.tmp-99999"));
        Directory.CreateDirectory(Path.Combine(_tmp, "adapter.tmp-4242"));
        File.WriteAllLines(Path.Combine(_tmp, "metrics.jsonl"), ["{\"step\":1,\"loss\":9}", "{\"step\":2,\"loss\":8}", "{\"step\":3,"]);

        var (code, output, err) = CliHarness.Run(Sft(2));
        Assert.True(code == 0, err + output);
        Assert.Contains("no checkpoint in", Log);
        Assert.Contains("metrics.jsonl started afresh", Log);
        Assert.Contains("checkpoint-000003.tmp-99999 (left by an interrupted write)", Log);
        Assert.Equal([1, 2], MetricSteps());
        Assert.Empty(Directory.GetDirectories(_tmp, "*.tmp-*", SearchOption.AllDirectories));
        // warm-up 20 steps (the tiny recipe) ≥ a 2-step run
        Assert.Contains("warm-up (20 steps", Log);
    }

    [Fact]
    public void A_second_run_into_the_same_folder_is_refused_naming_the_first_ones_pid()
    {
        using (RunDirectory.Acquire(_tmp))
        {
            var (code, _, err) = CliHarness.Run(Sft(1));
            Assert.Equal(1, code);
            Assert.Contains($"another run (pid {Environment.ProcessId})", err);
            Assert.False(File.Exists(Path.Combine(_tmp, "metrics.jsonl")));
        }
        var (ok, output, err2) = CliHarness.Run(Sft(1));
        Assert.True(ok == 0, err2 + output);
    }

    [Fact]
    public void A_damaged_reference_log_prob_cache_is_recomputed()
    {
        var (code, output, err) = CliHarness.Run(Dpo(1));
        Assert.True(code == 0, err + output);
        string cache = Directory.GetFiles(_tmp, "reference-logps-*.safetensors").Single();
        long size = new FileInfo(cache).Length;
        File.WriteAllBytes(cache, File.ReadAllBytes(cache)[..(int)(size - 5)]);

        (code, output, err) = CliHarness.Run(Dpo(1));
        Assert.True(code == 0, err + output);
        Assert.Contains("damaged", Log);
        Assert.Contains("reference log-probs: computed", Log);
        Assert.Equal(size, new FileInfo(cache).Length);
    }

    [Fact]
    public void Output_paths_that_cannot_be_folders_fail_in_one_sentence()
    {
        Directory.CreateDirectory(_tmp);
        string file = Path.Combine(_tmp, "a-file");
        File.WriteAllText(file, "x");
        foreach (var (dir, expect) in new[]
                 {
                     ("/proc/vlmtune-run", "virtual file system"), ("/sys/vlmtune-run", "virtual file system"),
                     (file, "is a file, not a folder"), (Path.Combine(file, "run"), "is a file, not a folder"),
                 })
        {
            var (code, _, err) = CliHarness.Run(Sft(1, dir));
            Assert.Equal(1, code);
            Assert.Contains("output.dir", err);
            Assert.Contains(expect, err);
            Assert.Single(err.Trim().Split('\n'));
        }
    }

    [Fact]
    public void Other_verbs_outputs_fail_in_one_sentence_too()
    {
        Directory.CreateDirectory(_tmp);
        string file = Path.Combine(_tmp, "a-file");
        File.WriteAllText(file, "x");
        string tiny = Path.Combine(Root, "tests/fixtures/model/tiny");
        foreach (var (args, expect) in new (string[], string)[]
                 {
                     (["quantize", "--model", tiny, "--out", "/proc/vlmtune-q"], "virtual file system"),
                     (["quantize", "--model", tiny, "--out", file], "is a file, not a folder"),
                     (["init", "--like", "tiny", "--out", "/sys/vlmtune-i"], "virtual file system"),
                     (["init", "--like", "tiny", "--out", Path.Combine(file, "sub")], "is a file, not a folder"),
                     (["preprocess", "--model", tiny, "--image", file, "--out", _tmp], "is a folder"),
                 })
        {
            var (code, _, err) = CliHarness.Run(args);
            Assert.Equal(1, code);
            Assert.Contains("--out", err);
            Assert.Contains(expect, err);
            Assert.Single(err.Trim().Split('\n'));
        }
    }

    [Fact]
    public void Sigterm_writes_a_checkpoint_and_exits_like_ctrl_c()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "vlmtune.dll");
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in (string[])["exec", dll, .. Sft(500, null, "--set", "checkpoint.every_steps=0")]) psi.ArgumentList.Add(a);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var training = new ManualResetEventSlim();
        using var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data == null) return;
            output.Enqueue(e.Data);
            if (e.Data.Contains("step 5/500", StringComparison.Ordinal)) training.Set();
        };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) output.Enqueue(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        Assert.True(training.Wait(TimeSpan.FromSeconds(60)), string.Join("\n", output));
        using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        Assert.True(p.WaitForExit(60_000));
        Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}: " + string.Join("\n", output));
        Assert.Contains("interrupted (SIGTERM)", Log);
        Assert.Single(TrainingCheckpoint.List(_tmp));
        Assert.False(File.Exists(Path.Combine(_tmp, "adapter/adapter_model.safetensors")));
    }

    [Fact]
    public void A_full_disk_at_a_checkpoint_leaves_no_temp_folder_and_the_final_adapter_is_still_written()
    {
        // A real full disk: a small tmpfs (needs root, as CI has; elsewhere the test has nothing to check).
        Directory.CreateDirectory(_tmp);
        string mnt = Path.Combine(_tmp, "disk");
        Directory.CreateDirectory(mnt);
        using (var mount = Process.Start("mount", ["-t", "tmpfs", "-o", "size=" + FullDiskBytes, "tmpfs", mnt]))
        {
            mount.WaitForExit();
            if (mount.ExitCode != 0) return;
        }
        try
        {
            string run = Path.Combine(mnt, "run");
            var (code, output, err) = CliHarness.Run(Sft(2, run, "--set", "checkpoint.every_steps=1"));
            Assert.True(code == 0, err + output);
            string log = File.ReadAllText(Path.Combine(run, "train.log"));
            Assert.Contains("could not write the checkpoint", log);
            Assert.Contains("it needs about", log);
            Assert.True(File.Exists(Path.Combine(run, "adapter/adapter_model.safetensors")), output);
            Assert.Empty(Directory.GetFileSystemEntries(run, "*.tmp-*", SearchOption.AllDirectories));
        }
        finally
        {
            using var umount = Process.Start("umount", [mnt]);
            umount.WaitForExit();
        }
    }

    /// <summary>Room for the logs and the final adapter of the tiny run, not for a checkpoint (4× the adapter).</summary>
    const string FullDiskBytes = "2600k";
}
