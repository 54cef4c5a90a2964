// One measured workload as the benchmark reports it; the JSON keys are the schema that
// scripts/bench_torch.py prints too, so the two sides can be compared row by row.

public struct BenchmarkResult: Codable, Sendable, Equatable {
    /// "gpt2-124m/forward", "gpt2-124m/frozen-step", "gpt2-124m/full-step", "sgemm", "gemma3-270m/classify", …
    public var workload: String
    /// Batch size and sequence length (for a ragged batch, its longest sequence).
    public var B: Int
    public var T: Int
    /// Median wall-clock seconds of one step over the measured runs (after warm-up).
    public var medianSeconds: Double
    public var minSeconds: Double
    public var maxSeconds: Double
    public var runs: Int
    /// Analytically counted floating-point operations per step ÷ median seconds, in 10⁹ per second.
    public var gflops: Double?
    /// VmHWM during this workload (reset before it where the kernel allows), in MB (10⁶ bytes).
    public var peakResidentMB: Double?
    /// gflops ÷ the FLOP-weighted sgemm rate on this workload's GEMM shapes, measured in the same process.
    public var blasShare: Double?
    /// Examples (sequences) per second.
    public var examplesPerSecond: Double?
    /// Tokens processed (or, decoding, generated) per second, where a workload counts them: the unit llama.cpp reports.
    public var tokensPerSecond: Double?
    public var threads: Int
    public var blasCore: String
    /// sgemm rows: which GEMM ("qkv", "attn-proj", "fc", "fc-proj", "lm-head", or "gpt2-124m mix") and its size.
    public var gemm: String?
    public var m: Int?
    public var n: Int?
    public var k: Int?
    /// Anything a reader must know to interpret the row (synthetic inputs, …).
    public var note: String?
    /// The model's products' precision where it is not float32 ("bf16"); absent for float32 and for sgemm rows.
    public var precision: String?

    enum CodingKeys: String, CodingKey {
        case workload, B, T
        case medianSeconds = "median_s", minSeconds = "min_s", maxSeconds = "max_s", runs
        case gflops, peakResidentMB = "peak_rss_mb", blasShare = "blas_share", examplesPerSecond = "examples_per_s"
        case tokensPerSecond = "tokens_per_s"
        case threads, blasCore = "blas_core", gemm, m, n, k, note, precision
    }

    public init(workload: String, B: Int, T: Int, timing: Timing, flops: Double?, examples: Int?, tokens: Int? = nil,
                peakResidentMB: Double?, threads: Int, blasCore: String, note: String? = nil) {
        self.workload = workload; self.B = B; self.T = T
        medianSeconds = timing.median; minSeconds = timing.min; maxSeconds = timing.max; runs = timing.samples.count
        gflops = flops.map { $0 / timing.median / 1e9 }
        examplesPerSecond = examples.map { Double($0) / timing.median }
        tokensPerSecond = tokens.map { Double($0) / timing.median }
        self.peakResidentMB = peakResidentMB
        self.threads = threads; self.blasCore = blasCore; self.note = note
    }
}

/// What the suite reports while it runs, for a caller to show; the library itself never prints.
public enum BenchmarkEvent: Sendable {
    case preparing(String)
    case started(workload: String, B: Int, T: Int)
    case finished(BenchmarkResult)
    case skipped(workload: String, reason: String)
}
