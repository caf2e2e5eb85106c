using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Security.Cryptography;

namespace VlmTune.Data.Loading;

/// <summary>
/// Image features (the connector's output for one image, in the compute dtype) kept on disk, one file per image, in
/// the run directory. Only valid while neither the vision tower nor the connector is trained: the features are then a
/// function of the pixels and the frozen weights alone. An entry is found by its key (<see cref="KeyOf"/>: SHA-256
/// over the image's encoded bytes, the processor settings, the vision + connector weights, the compute dtype and
/// whether the image was shrunk), so another checkpoint, processor or image never reuses stale features.
/// <code>
/// entry file "{key[..40]}.feat":
///   0   magic "VTFC"            4   version (u32 LE) = 1
///   8   key (32 bytes, SHA-256) 40  tiles, rows per tile, width (3 × u32 LE)   52  dtype size in bytes (u32 LE)
///   56  payload bytes (u64 LE)  64  SHA-256 of the payload (32 bytes)          96  payload (tiles × rows × width × size)
/// </code>
/// A read maps the file and checks magic, version, key, the length against the file size, and the payload hash; any
/// mismatch (a crash mid-write, a truncated or bit-flipped file) counts as a miss: the entry is deleted, recomputed and
/// rewritten, never trusted. Writes go to a temporary file renamed into place. The total size is bounded: when an entry
/// would pass the limit it is not written and one log line says the cache is full. Thread-safe.
/// </summary>
public sealed class ImageFeatureCache
{
    const int HeaderBytes = 96;
    const uint Version = 1;
    static ReadOnlySpan<byte> Magic => "VTFC"u8;

    readonly object _gate = new();
    readonly Action<string> _log;
    long _bytes;
    bool _fullReported;
    int _hits, _misses, _written, _corrupt;

    public ImageFeatureCache(string directory, long maxBytes, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        Directory = directory;
        MaxBytes = maxBytes;
        _log = log ?? (_ => { });
        System.IO.Directory.CreateDirectory(directory);
        foreach (var f in new DirectoryInfo(directory).EnumerateFiles())
        {
            if (f.Name.EndsWith(".tmp", StringComparison.Ordinal)) { TryDelete(f.FullName); continue; }   // a crash mid-write
            if (f.Name.EndsWith(".feat", StringComparison.Ordinal)) _bytes += f.Length;
        }
    }

    public string Directory { get; }
    public long MaxBytes { get; }
    public long SizeBytes { get { lock (_gate) return _bytes; } }

    /// <summary>(hits, misses, entries written, corrupt entries found) since construction or the last <see cref="TakeCounts"/>.</summary>
    public (int Hits, int Misses, int Written, int Corrupt) TakeCounts()
    {
        lock (_gate)
        {
            var r = (_hits, _misses, _written, _corrupt);
            (_hits, _misses, _written, _corrupt) = (0, 0, 0, 0);
            return r;
        }
    }

    /// <summary>
    /// The key of one image's features: SHA-256 over the encoded image bytes' SHA-256, the processor fingerprint,
    /// the weights fingerprint, the dtype name and the global-only flag (each length-prefixed).
    /// </summary>
    public static byte[] KeyOf(ReadOnlySpan<byte> imageBytes, string processorFingerprint, string weightsFingerprint, string dtype, bool globalOnly)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(SHA256.HashData(imageBytes));
        Span<byte> len = stackalloc byte[4];
        foreach (var part in new[] { processorFingerprint, weightsFingerprint, dtype, globalOnly ? "global-only" : "split" })
        {
            var b = System.Text.Encoding.UTF8.GetBytes(part);
            BinaryPrimitives.WriteInt32LittleEndian(len, b.Length);
            h.AppendData(len);
            h.AppendData(b);
        }
        return h.GetHashAndReset();
    }

    string PathOf(ReadOnlySpan<byte> key) => Path.Combine(Directory, Convert.ToHexStringLower(key)[..40] + ".feat");

    /// <summary>
    /// The features stored under <paramref name="key"/> with the expected shape, or null (a miss; a corrupt entry is
    /// deleted). With <paramref name="count"/> false neither a hit nor a miss is counted (a loader worker looks ahead;
    /// the trainer counts what the batch used when it runs, see <see cref="CountHit"/> / <see cref="CountMiss"/>, so the
    /// counts of an epoch do not depend on how far ahead the workers were).
    /// </summary>
    public byte[]? TryGet(ReadOnlySpan<byte> key, int tiles, int rows, int width, int elementSize, bool count = true)
    {
        string path = PathOf(key);
        string? problem = null;
        byte[]? payload = null;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                if (count) Count(hit: false);
                return null;
            }
            if (info.Length < HeaderBytes) problem = $"{info.Length} bytes, shorter than the {HeaderBytes}-byte header";
            else
            {
                using var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
                using var view = map.CreateViewAccessor(0, info.Length, MemoryMappedFileAccess.Read);
                var header = new byte[HeaderBytes];
                view.ReadArray(0, header, 0, HeaderBytes);
                long expected = (long)tiles * rows * width * elementSize;
                ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(56));
                if (!header.AsSpan(0, 4).SequenceEqual(Magic) || BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4)) != Version)
                    problem = "not a feature-cache entry of this version";
                else if (!header.AsSpan(8, 32).SequenceEqual(key)) problem = "its key differs";
                else if (BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(40)) != tiles || BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(44)) != rows
                         || BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(48)) != width || BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(52)) != elementSize)
                    problem = "its shape differs";
                else if (stored != (ulong)expected || info.Length != HeaderBytes + expected)
                    problem = $"truncated: {info.Length - HeaderBytes} payload bytes on disk, {expected} expected";
                else
                {
                    payload = new byte[expected];
                    view.ReadArray(HeaderBytes, payload, 0, payload.Length);
                    if (!SHA256.HashData(payload).AsSpan().SequenceEqual(header.AsSpan(64, 32))) problem = "its payload hash does not match";
                }
            }
        }
        catch (IOException e) { problem = $"unreadable ({e.Message})"; }
        catch (UnauthorizedAccessException e) { problem = $"unreadable ({e.Message})"; }
        if (problem == null)
        {
            if (count) Count(hit: true);
            return payload;
        }
        lock (_gate)
        {
            _corrupt++;
            if (count) _misses++;
        }
        _log($"feature cache: entry {Path.GetFileName(path)} is corrupt ({problem}); recomputing it");
        Remove(path);
        return null;
    }

    /// <summary>Stores features under <paramref name="key"/> (no-op when present or when the cache is full).</summary>
    public void Put(ReadOnlySpan<byte> key, int tiles, int rows, int width, int elementSize, ReadOnlySpan<byte> payload)
    {
        if (payload.Length != (long)tiles * rows * width * elementSize)
            throw new ArgumentException($"{payload.Length} bytes for ({tiles}, {rows}, {width}) × {elementSize}", nameof(payload));
        string path = PathOf(key);
        long size = HeaderBytes + payload.Length;
        lock (_gate)
        {
            if (File.Exists(path)) return;
            if (_bytes + size > MaxBytes)
            {
                if (!_fullReported)
                    _log($"feature cache full: {_bytes / 1e6:F1} MB of the {MaxBytes / 1e6:F1} MB limit (data.feature_cache_mb) in {Directory}; " +
                         "features of further images are computed each time");
                _fullReported = true;
                return;
            }
            _bytes += size;
        }
        var header = new byte[HeaderBytes];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), Version);
        key.CopyTo(header.AsSpan(8, 32));
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(40), (uint)tiles);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(44), (uint)rows);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(48), (uint)width);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(52), (uint)elementSize);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(56), (ulong)payload.Length);
        SHA256.HashData(payload).CopyTo(header.AsSpan(64));
        string tmp = $"{path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
        try
        {
            using (var f = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                f.Write(header);
                f.Write(payload);
            }
            File.Move(tmp, path, overwrite: true);
            lock (_gate) _written++;
        }
        catch (IOException e)
        {
            TryDelete(tmp);
            lock (_gate) _bytes -= size;
            _log($"feature cache: could not write {Path.GetFileName(path)} ({e.Message}); continuing without it");
        }
    }

    /// <summary>Counts a miss of a lookup made with count = false.</summary>
    public void CountMiss() => Count(hit: false);

    /// <summary>Counts a hit of a lookup made with count = false.</summary>
    public void CountHit() => Count(hit: true);

    void Count(bool hit)
    {
        lock (_gate)
        {
            if (hit) _hits++;
            else _misses++;
        }
    }

    void Remove(string path)
    {
        long length = 0;
        try { length = new FileInfo(path).Length; } catch (IOException) { }
        if (TryDelete(path)) lock (_gate) _bytes -= length;
    }

    static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
