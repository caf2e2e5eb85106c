using System.Diagnostics;
using System.Reflection;
using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace VlmTune.GpuCheck;

public enum Outcome { Passed, Failed, Skipped, TimedOut, NotRun }

public sealed record TestResult(TestCase Case, Outcome Outcome, double Milliseconds, string? Message, string? StackTrace, string? Output);

/// <summary>
/// Runs discovered tests one at a time on one thread, as xunit would for one test: a new instance of the class per
/// test, constructor arguments from <see cref="ITestOutputHelper"/>, class fixtures (<see cref="IClassFixture{T}"/>,
/// one per class) and collection fixtures (<see cref="ICollectionFixture{T}"/> of the class's [Collection]),
/// <see cref="IAsyncLifetime"/> and <see cref="IDisposable"/> around the call, async tests awaited.
/// Fixtures are disposed when the last test of their class / collection has run.
/// </summary>
public sealed class TestExecutor(Assembly assembly)
{
    readonly Dictionary<Type, object> _fixtures = new();
    readonly Dictionary<Type, Exception> _fixtureErrors = new();

    public TestResult Run(TestCase test)
    {
        if (test.SkipReason != null) return new TestResult(test, Outcome.Skipped, 0, test.SkipReason, null, null);
        if (test.DiscoveryError != null) return new TestResult(test, Outcome.Failed, 0, test.DiscoveryError, null, null);
        var output = new OutputHelper();
        var clock = Stopwatch.StartNew();
        object? instance = null;
        try
        {
            if (!test.Method.IsStatic) instance = Create(test.Class, output);
            if (instance is IAsyncLifetime life) life.InitializeAsync().GetAwaiter().GetResult();
            try
            {
                var returned = test.Method.Invoke(instance, test.Arguments);
                switch (returned)
                {
                    case Task task: task.GetAwaiter().GetResult(); break;
                    case ValueTask vt: vt.AsTask().GetAwaiter().GetResult(); break;
                }
            }
            finally
            {
                if (instance is IAsyncLifetime l) l.DisposeAsync().GetAwaiter().GetResult();
                (instance as IDisposable)?.Dispose();
            }
            return new TestResult(test, Outcome.Passed, clock.Elapsed.TotalMilliseconds, null, null, output.Text);
        }
        catch (Exception e)
        {
            var x = TestDiscovery.Unwrap(e);
            return new TestResult(test, Outcome.Failed, clock.Elapsed.TotalMilliseconds, $"{x.GetType().FullName}: {x.Message}", x.StackTrace, output.Text);
        }
    }

    object Create(Type type, OutputHelper output)
    {
        var ctors = type.GetConstructors();
        if (ctors.Length != 1) throw new InvalidOperationException($"{type.Name} has {ctors.Length} public constructors; xunit needs exactly one");
        var ps = ctors[0].GetParameters();
        var args = new object?[ps.Length];
        var fixtureTypes = FixtureTypes(type).ToList();
        for (int i = 0; i < ps.Length; i++)
        {
            var p = ps[i].ParameterType;
            if (p == typeof(ITestOutputHelper)) args[i] = output;
            else if (fixtureTypes.Contains(p)) args[i] = Fixture(p);
            else throw new InvalidOperationException($"{type.Name}'s constructor parameter '{ps[i].Name}' ({p.Name}) is not an ITestOutputHelper nor a class/collection fixture");
        }
        return ctors[0].Invoke(args);
    }

    /// <summary>IClassFixture&lt;T&gt; of the class, then ICollectionFixture&lt;T&gt; of its [Collection]'s definition.</summary>
    IEnumerable<Type> FixtureTypes(Type type)
    {
        foreach (var i in type.GetInterfaces())
            if (i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IClassFixture<>)) yield return i.GetGenericArguments()[0];
        var definition = CollectionDefinition(type);
        if (definition == null) yield break;
        foreach (var i in definition.GetInterfaces())
            if (i.IsGenericType && i.GetGenericTypeDefinition() == typeof(ICollectionFixture<>)) yield return i.GetGenericArguments()[0];
    }

    Type? CollectionDefinition(Type type)
    {
        var collection = type.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType == typeof(CollectionAttribute));
        if (collection?.ConstructorArguments.FirstOrDefault().Value is not string name) return null;
        return assembly.GetTypes().FirstOrDefault(t => t.GetCustomAttributesData().Any(a =>
            a.AttributeType == typeof(CollectionDefinitionAttribute) && a.ConstructorArguments.FirstOrDefault().Value as string == name));
    }

    object Fixture(Type t)
    {
        if (_fixtures.TryGetValue(t, out var f)) return f;
        if (_fixtureErrors.TryGetValue(t, out var err)) throw new InvalidOperationException($"fixture {t.Name} failed earlier: {err.Message}", err);
        try
        {
            f = Activator.CreateInstance(t) ?? throw new InvalidOperationException($"fixture {t.Name} could not be created");
            if (f is IAsyncLifetime life) life.InitializeAsync().GetAwaiter().GetResult();
            _fixtures[t] = f;
            return f;
        }
        catch (Exception e)
        {
            var x = TestDiscovery.Unwrap(e);
            _fixtureErrors[t] = x;
            throw new InvalidOperationException($"fixture {t.Name}: {x.GetType().Name}: {x.Message}", x);
        }
    }

    /// <summary>Disposes the fixtures no remaining test needs (call after the last test of a class).</summary>
    public void ReleaseFixtures(IEnumerable<Type> classesStillToRun)
    {
        var needed = classesStillToRun.SelectMany(FixtureTypes).ToHashSet();
        foreach (var t in _fixtures.Keys.Where(t => !needed.Contains(t)).ToList())
        {
            var f = _fixtures[t];
            _fixtures.Remove(t);
            try
            {
                if (f is IAsyncLifetime life) life.DisposeAsync().GetAwaiter().GetResult();
                (f as IDisposable)?.Dispose();
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"warning: disposing fixture {t.Name}: {TestDiscovery.Unwrap(e).Message}");
            }
        }
    }

    sealed class OutputHelper : ITestOutputHelper
    {
        readonly StringBuilder _text = new();
        public string? Text => _text.Length == 0 ? null : _text.ToString();
        public void WriteLine(string message) { lock (_text) _text.AppendLine(message); }
        public void WriteLine(string format, params object[] args) => WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
    }
}
