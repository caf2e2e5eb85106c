using System.Diagnostics;
using System.Text.Json;
using VlmTune.Tensors.Cuda.Tests.Support;

namespace VlmTune.GpuCheck;

/// <summary>
/// <c>vlmtune gpucheck [--device gpu|sim] [--json FILE] [--filter TEXT]... [--exclude TEXT]... [--list]
/// [--test-timeout S] [--budget S]</c>: runs tests/VlmTune.Tensors.Cuda.Tests in this process (no test host), each
/// CUDA result compared with the CPU backend's as the tests do. <c>gpu</c> sets VLMTUNE_CUDA_TEST_DEVICE=gpu, so the
/// tests' <c>Sim.Device</c> / <c>Sim.Wide</c> are the real GPU 0; <c>sim</c> keeps ILGPU's CPU accelerator.
/// Prints one line per test and the totals; <c>--json</c> is rewritten after every test, so a run killed from outside
/// still leaves a valid file. Exit: 0 all passed, 1 failures, 2 usage, 3 a test ran past --test-timeout (the process
/// stops: a hung kernel blocks the device's stream for every later test).
/// </summary>
public static class GpuCheckCommand
{
    const string Usage = "usage: vlmtune gpucheck [--device gpu|sim] [--json FILE] [--filter TEXT]... [--exclude TEXT]... [--list] [--test-timeout SECONDS] [--budget SECONDS]";

    sealed class Options
    {
        public string Device = DefaultDevice();
        public string? Json;
        public List<string> Filters = [], Excludes = [];
        public bool List;
        public double TestTimeout = 300, Budget;
    }

    static string DefaultDevice()
    {
        string? env = Environment.GetEnvironmentVariable("VLMTUNE_CUDA_TEST_DEVICE")?.Trim().ToLowerInvariant();
        if (env is "gpu" or "cuda") return "gpu";
        if (env is "sim" or "simulate" or "simulated") return "sim";
        return VlmTune.Tensors.Cuda.CudaBackendOptions.SimulateFromEnvironment ? "sim" : "gpu";
    }

    public static int Run(string[] args)
    {
        Options o;
        try { o = Parse(args); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
        if (o.Device == "help") { Console.WriteLine(Usage); return 0; }

        // Before anything touches Sim: its static fields read the variable once.
        Environment.SetEnvironmentVariable("VLMTUNE_CUDA_TEST_DEVICE", o.Device == "gpu" ? "gpu" : "sim");
        var assembly = typeof(Sim).Assembly;
        var all = TestDiscovery.Discover(assembly);
        var selected = all.Where(t => (o.Filters.Count == 0 || o.Filters.Any(f => t.Name.Contains(f, StringComparison.OrdinalIgnoreCase)))
                                      && !o.Excludes.Any(x => t.Name.Contains(x, StringComparison.OrdinalIgnoreCase))).ToList();
        if (o.List)
        {
            foreach (var t in selected) Console.WriteLine(t.Name);
            Console.WriteLine($"{selected.Count} of {all.Count} tests");
            return 0;
        }

        var report = new Report(o.Json, o.Device, selected.Count);
        Console.WriteLine($"gpucheck: {selected.Count} of {all.Count} tests from {assembly.GetName().Name}, device mode {o.Device}");
        Sim.GpuLog = line => { Console.WriteLine($"  backend: {line}"); report.BackendLog.Add(line); };
        try
        {
            report.DeviceName = Sim.Backend.Name;
            Console.WriteLine($"  device: {report.DeviceName}, warp {Sim.Backend.WarpSize}, groups of {Sim.Backend.GroupSize}, up to {Sim.Backend.MaxGroups} groups");
        }
        catch (Exception e)
        {
            var x = TestDiscovery.Unwrap(e);
            report.DeviceError = $"{x.GetType().Name}: {x.Message}";
            Console.WriteLine($"  device: FAILED to create the backend: {report.DeviceError} (the tests that use it will fail)");
        }
        report.Write();

        // An exception on a thread the test does not own (e.g. an ILGPU accelerator thread) ends the process: record
        // which test was running first.
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            lock (report)
            {
                var x = e.ExceptionObject as Exception;
                report.Crash = x == null ? "unknown exception" : $"{x.GetType().FullName}: {x.Message}\n{x.StackTrace}";
                report.Write();
            }
            Console.WriteLine($"CRASH while running {report.Running ?? "(no test)"}: {(e.ExceptionObject as Exception)?.Message}");
            Console.Out.Flush();
        };
        var executor = new TestExecutor(assembly);
        var clock = Stopwatch.StartNew();
        TestCase? current = null;
        long currentStart = 0;
        bool done = false;
        var worker = new Thread(() =>
        {
            for (int i = 0; i < selected.Count; i++)
            {
                var test = selected[i];
                if (o.Budget > 0 && clock.Elapsed.TotalSeconds > o.Budget)
                {
                    lock (report)
                    {
                        foreach (var rest in selected.Skip(i)) report.Add(new TestResult(rest, Outcome.NotRun, 0, $"not run: the --budget of {o.Budget} s was spent", null, null));
                        report.Write();
                    }
                    Console.WriteLine($"budget of {o.Budget} s spent: {selected.Count - i} tests not run");
                    break;
                }
                Volatile.Write(ref currentStart, clock.ElapsedTicks);
                Volatile.Write(ref current, test);
                lock (report)
                {
                    report.Running = test.Name;     // in the file while it runs: a crash of the process names the test
                    report.Write();
                }
                var result = executor.Run(test);
                Volatile.Write(ref current, null);
                lock (report)
                {
                    report.Running = null;
                    report.Add(result);
                    report.Write();
                }
                Print(result);
                if (i + 1 == selected.Count || selected[i + 1].Class != test.Class)
                    executor.ReleaseFixtures(selected.Skip(i + 1).Select(t => t.Class).Distinct());
            }
            Volatile.Write(ref done, true);
        }, maxStackSize: 64 << 20) { IsBackground = true, Name = "gpucheck" };
        worker.Start();

        while (!worker.Join(200))
        {
            var test = Volatile.Read(ref current);
            if (test == null) continue;
            double seconds = (clock.ElapsedTicks - Volatile.Read(ref currentStart)) / (double)Stopwatch.Frequency;
            if (seconds <= o.TestTimeout) continue;
            lock (report)
            {
                var result = new TestResult(test, Outcome.TimedOut, seconds * 1000, $"still running after --test-timeout {o.TestTimeout} s: stopped the process (later tests not run)", null, null);
                report.Add(result);
                foreach (var rest in selected.SkipWhile(t => t != test).Skip(1))
                    report.Add(new TestResult(rest, Outcome.NotRun, 0, "not run: an earlier test timed out", null, null));
                report.Elapsed = clock.Elapsed.TotalSeconds;
                report.Write();
                Print(result);
                PrintTotals(report);
            }
            Console.Out.Flush();
            Environment.Exit(3);
        }
        if (!Volatile.Read(ref done)) Console.Error.WriteLine("warning: the test thread ended early");
        report.Complete = true;
        report.Elapsed = clock.Elapsed.TotalSeconds;
        report.Write();
        PrintTotals(report);
        return report.Count(Outcome.Failed) + report.Count(Outcome.TimedOut) > 0 || report.DeviceError != null ? 1 : 0;
    }

    static void Print(TestResult r)
    {
        string tag = r.Outcome switch
        {
            Outcome.Passed => "PASS", Outcome.Failed => "FAIL", Outcome.Skipped => "SKIP", Outcome.TimedOut => "TIME", _ => "----",
        };
        Console.WriteLine($"{tag} {r.Milliseconds,9:F1} ms  {r.Case.Name}");
        if (r.Outcome is Outcome.Failed or Outcome.TimedOut or Outcome.Skipped && r.Message != null)
            foreach (var line in r.Message!.Split('\n').Take(6)) Console.WriteLine($"       {line.TrimEnd()}");
        if (r.Outcome == Outcome.Failed && r.StackTrace != null)
            foreach (var line in r.StackTrace.Split('\n').Take(4)) Console.WriteLine($"       {line.TrimEnd()}");
    }

    static void PrintTotals(Report r) =>
        Console.WriteLine($"gpucheck totals: {r.Count(Outcome.Passed)} passed, {r.Count(Outcome.Failed)} failed, {r.Count(Outcome.Skipped)} skipped, " +
                          $"{r.Count(Outcome.TimedOut)} timed out, {r.Count(Outcome.NotRun)} not run, of {r.Total} ({r.Elapsed:F1} s, device {r.DeviceName ?? r.DeviceError})");

    static Options Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            double Seconds()
            {
                string name = args[i], v = Value();
                return double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double s) && s >= 0
                    ? s : throw new ArgumentException($"{name}: '{v}' is not a number of seconds");
            }
            switch (args[i])
            {
                case "--device":
                    o.Device = Value().ToLowerInvariant() switch
                    {
                        "gpu" or "cuda" => "gpu",
                        "sim" or "simulate" or "simulated" => "sim",
                        var v => throw new ArgumentException($"--device: '{v}' (use gpu or sim)"),
                    };
                    break;
                case "--json": o.Json = Value(); break;
                case "--filter": o.Filters.Add(Value()); break;
                case "--exclude": o.Excludes.Add(Value()); break;
                case "--list": o.List = true; break;
                case "--test-timeout": o.TestTimeout = Seconds(); break;
                case "--budget": o.Budget = Seconds(); break;
                case "-h" or "--help": o.Device = "help"; break;
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        return o;
    }

    /// <summary>The results so far, as JSON (Utf8JsonWriter: no reflection, trimming-safe), replaced atomically.</summary>
    sealed class Report(string? path, string mode, int total)
    {
        readonly List<TestResult> _results = [];
        readonly DateTime _started = DateTime.UtcNow;
        public List<string> BackendLog { get; } = [];
        public string? DeviceName { get; set; }
        public string? DeviceError { get; set; }
        public bool Complete { get; set; }
        /// <summary>The test being run now (null between tests).</summary>
        public string? Running { get; set; }
        /// <summary>An unhandled exception that is ending the process.</summary>
        public string? Crash { get; set; }
        public double Elapsed { get; set; }
        public int Total => total;

        public void Add(TestResult r) => _results.Add(r);
        public int Count(Outcome o) => _results.Count(r => r.Outcome == o);

        public void Write()
        {
            if (path == null) return;
            string full = Path.GetFullPath(path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            string tmp = full + ".tmp";
            using (var stream = File.Create(tmp))
            using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartObject();
                w.WriteString("tool", "vlmtune gpucheck");
                w.WriteString("device_mode", mode);
                w.WriteString("device", DeviceName);
                w.WriteString("device_error", DeviceError);
                w.WriteStartArray("backend_log");
                foreach (var line in BackendLog) w.WriteStringValue(line);
                w.WriteEndArray();
                w.WriteString("started_utc", _started.ToString("O"));
                w.WriteNumber("elapsed_s", Math.Round(Elapsed, 3));
                w.WriteBoolean("complete", Complete);
                w.WriteString("running", Running);
                if (Crash != null) w.WriteString("crash", Crash);
                w.WriteStartObject("totals");
                w.WriteNumber("total", total);
                w.WriteNumber("passed", Count(Outcome.Passed));
                w.WriteNumber("failed", Count(Outcome.Failed));
                w.WriteNumber("skipped", Count(Outcome.Skipped));
                w.WriteNumber("timed_out", Count(Outcome.TimedOut));
                w.WriteNumber("not_run", Count(Outcome.NotRun));
                w.WriteEndObject();
                w.WriteStartArray("tests");
                foreach (var r in _results)
                {
                    w.WriteStartObject();
                    w.WriteString("name", r.Case.Name);
                    w.WriteString("class", r.Case.ClassName);
                    w.WriteString("method", r.Case.Method.Name);
                    w.WriteString("outcome", r.Outcome switch
                    {
                        Outcome.Passed => "passed", Outcome.Failed => "failed", Outcome.Skipped => "skipped",
                        Outcome.TimedOut => "timed_out", _ => "not_run",
                    });
                    w.WriteNumber("ms", Math.Round(r.Milliseconds, 2));
                    if (r.Message != null) w.WriteString("message", r.Message);
                    if (r.StackTrace != null) w.WriteString("stack", string.Join('\n', r.StackTrace.Split('\n').Take(12)));
                    if (r.Output != null) w.WriteString("output", r.Output.Length > 4000 ? r.Output[..4000] + "…" : r.Output);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            File.Move(tmp, full, overwrite: true);
        }
    }
}
