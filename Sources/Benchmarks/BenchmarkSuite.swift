// The benchmark suite: which workloads exist, in what order they run, and how a workload's share of what
// BLAS achieves is found. GPT-2 runs shape by shape (smallest first), forward → frozen → full, so each
// workload's peak memory includes only buffers it needs itself; sgemm follows at the same shapes.
import Foundation
import Kernels
import Models
import Tokenizers

public struct BenchmarkOptions: Sendable {
    public var workloads: [String]
    /// (B, T) pairs for the GPT-2 workloads and sgemm.
    public var shapes: [(B: Int, T: Int)]
    public var repeats: Int
    public var warmup: Int
    /// BLAS threads; nil leaves OpenBLAS's own choice.
    public var threads: Int?
    public var seed: UInt64
    /// The models' products' precision (sgemm rows are float32 whatever this says).
    public var precision: Precision

    public init(workloads: [String] = BenchmarkSuite.defaultWorkloads, shapes: [(B: Int, T: Int)] = [(4, 64), (8, 128)],
                repeats: Int = 3, warmup: Int = 1, threads: Int? = nil, seed: UInt64 = 1, precision: Precision = .fp32) {
        self.workloads = workloads; self.shapes = shapes; self.repeats = repeats; self.warmup = warmup
        self.threads = threads; self.seed = seed; self.precision = precision
    }
}

public enum BenchmarkSuite {
    public static let sgemm = "sgemm"
    public static let gemmaClassify = "gemma3-270m/classify"
    public static let gemmaPEZStep = ["gemma3-270m/pez-step", "gemma3-270m/pez-step-whole"]
    public static let gemmaRLPrompt = ["gemma3-270m/rlprompt-reward", "gemma3-270m/rlprompt-reward-recompute", "gemma3-270m/rlprompt-step"]
    public static let gemmaGCGStep = "gemma3-270m/gcg-step"
    public static let gemmaGenerate = "gemma3-270m/generate-128"
    public static let gemmaGenerateSampled = "gemma3-270m/generate-128-sampled"
    /// One 512-token sequence through the forward, the label rows read at its end (llama-bench's pp512).
    public static let gemmaPrefill = "gemma3-270m/prefill-512"
    public static let gemmaRollout = "gemma3-270m/rollout-16x5"
    public static let gemmaEvaluate = ["gemma3-270m/evaluate-600", "gemma3-270m/evaluate-600-whole"]
    /// The same classification forward on Qwen2.5-Coder 0.5B (the Llama family: SwiGLU, QKV biases, untied head).
    public static let qwenClassify = "qwen2.5-coder-0.5b/classify"
    /// Gemma workloads by name, built on the loaded model and batch. Extension point: a new Gemma workload
    /// (e.g. "gemma3-270m/pez-step") adds its name and constructor here and conforms to `Workload`.
    public static let gemmaCatalog: [(name: String, make: (DecoderModel, GemmaClassifyBatch) throws -> any Workload)] = [
        (gemmaClassify, { try GemmaClassifyWorkload(model: $0, input: $1) }),
        (gemmaPEZStep[0], { model, input in
            try GemmaPEZStepWorkload(model: model, input: input, tokenizer: try SentencePieceTokenizer(ggufFile: GemmaBenchmarkFiles.model()!))
        }),
        (gemmaPEZStep[1], { model, input in
            try GemmaPEZStepWorkload(model: model, input: input, tokenizer: try SentencePieceTokenizer(ggufFile: GemmaBenchmarkFiles.model()!),
                                     shareStart: false)
        }),
        (gemmaRLPrompt[0], { try GemmaRLPromptRewardWorkload(model: $0, input: $1, recompute: false) }),
        (gemmaRLPrompt[1], { try GemmaRLPromptRewardWorkload(model: $0, input: $1, recompute: true) }),
        (gemmaRLPrompt[2], { model, input in
            try GemmaRLPromptStepWorkload(model: model, input: input, tokenizer: try SentencePieceTokenizer(ggufFile: GemmaBenchmarkFiles.model()!))
        }),
        (gemmaGenerate, { GenerateWorkload(model: $0, input: $1) }),
        (gemmaGenerateSampled, { GenerateWorkload(model: $0, input: $1, name: gemmaGenerateSampled,
                                                  sampling: SamplingOptions(temperature: 1, topP: 0.9, seed: 1)) }),
        (gemmaPrefill, { try GemmaClassifyWorkload(model: $0, input: $1.concatenated(512), name: gemmaPrefill) }),
        (gemmaRollout, { model, input in RolloutWorkload(model: model, start: input.ids[0][0]) }),
        (gemmaEvaluate[0], { model, _ in try GemmaEvaluateWorkload.make(model: model, shareStart: true) }),
        (gemmaEvaluate[1], { model, _ in try GemmaEvaluateWorkload.make(model: model, shareStart: false) }),
        (gemmaGCGStep, { model, input in
            try GemmaGCGStepWorkload(model: model, input: input, tokenizer: try SentencePieceTokenizer(ggufFile: GemmaBenchmarkFiles.model()!))
        }),
    ]

    public static var knownWorkloads: [String] {
        GPT2Workload.Kind.allCases.map(\.rawValue) + [sgemm] + gemmaCatalog.map(\.name) + [qwenClassify]
    }
    public static let defaultWorkloads = GPT2Workload.Kind.allCases.map(\.rawValue) + [sgemm, gemmaClassify, gemmaPEZStep[0]]

    /// Runs the requested workloads and returns one result per workload and shape (sgemm: per GEMM shape,
    /// plus a "gpt2-124m mix" row with the FLOP-weighted rate).
    public static func run(_ options: BenchmarkOptions, progress: (BenchmarkEvent) -> Void = { _ in }) throws -> [BenchmarkResult] {
        if let threads = options.threads { BLAS.setThreads(threads) }
        let wanted = Set(options.workloads)
        var results: [BenchmarkResult] = []

        func time(_ workload: any Workload, precision: Precision = .fp32) throws -> BenchmarkResult {
            progress(.started(workload: workload.name, B: workload.B, T: workload.T))
            ResidentMemory.resetPeak()
            let timing = try measure(warmup: options.warmup, repeats: options.repeats) { try workload.step() }
            var result = BenchmarkResult(workload: workload.name, B: workload.B, T: workload.T, timing: timing,
                                         flops: workload.flops, examples: workload.examples, tokens: workload.tokens,
                                         peakResidentMB: ResidentMemory.peakMB(), threads: BLAS.threads,
                                         blasCore: blasCoreName, note: workload.note)
            result.precision = precision == .fp32 ? nil : precision.rawValue
            return result
        }

        // GPT-2 and sgemm, shape by shape.
        let kinds = GPT2Workload.Kind.allCases.filter { wanted.contains($0.rawValue) }
        if !kinds.isEmpty || wanted.contains(sgemm) {
            var model: DecoderModel?
            if !kinds.isEmpty {
                progress(.preparing("GPT-2 124M with random weights"))
                model = try DecoderModel(randomWeightsFor: .gpt2Small, seed: options.seed)
                try model?.use(precision: options.precision)
            }
            for (B, T) in options.shapes.sorted(by: { $0.B * $0.T < $1.B * $1.T }) {
                var shapeResults: [BenchmarkResult] = []
                if let model {
                    let data = try GPT2Batch(model: model, B: B, T: T, seed: options.seed)
                    for kind in kinds {
                        let result = try time(GPT2Workload(kind, model: model, data: data), precision: options.precision)
                        shapeResults.append(result)
                        progress(.finished(result))
                    }
                }
                if wanted.contains(sgemm) {
                    let cost = GPT2Cost(config: GPT2Config.gpt2Small.decoder, B: B, T: T)
                    var rates: [String: Double] = [:]
                    var sgemmRows: [BenchmarkResult] = []
                    for shape in cost.forwardShapes {
                        var result = try time(SgemmWorkload(shape: shape, B: B, T: T))
                        result.gemm = shape.name + (shape.transposeB ? " (B transposed)" : "")
                        (result.m, result.n, result.k) = (shape.M, shape.N, shape.K)
                        rates[shape.name] = shape.flops / result.medianSeconds
                        sgemmRows.append(result)
                        progress(.finished(result))
                    }
                    if let rate = GPT2Cost.weightedRate(cost.forwardShapes, rates: rates) {
                        // The time sgemm alone needs for one forward's GEMMs (outside attention), and its rate.
                        let seconds = cost.forwardShapes.reduce(0.0) { $0 + Double($1.count) * $1.flops } / rate
                        var mix = BenchmarkResult(workload: sgemm, B: B, T: T, timing: Timing(samples: [seconds]),
                                                  flops: seconds * rate, examples: nil, peakResidentMB: nil,
                                                  threads: BLAS.threads, blasCore: blasCoreName,
                                                  note: "FLOP-weighted over the GEMM shapes of one GPT-2 forward")
                        mix.runs = sgemmRows.first?.runs ?? 0
                        mix.gemm = "gpt2-124m mix"
                        sgemmRows.append(mix)
                        for i in shapeResults.indices {
                            shapeResults[i].blasShare = shapeResults[i].gflops.map { $0 * 1e9 / rate }
                        }
                    }
                    shapeResults += sgemmRows
                }
                results += shapeResults
            }
            model = nil  // release GPT-2 before Gemma loads
        }

        // Gemma 3.
        let gemmaNames = gemmaCatalog.map(\.name).filter(wanted.contains)
        if !gemmaNames.isEmpty {
            guard let url = GemmaBenchmarkFiles.model() else {
                for name in gemmaNames {
                    progress(.skipped(workload: name, reason: "no model at \(GemmaBenchmarkFiles.defaultModel) and \(GemmaBenchmarkFiles.environmentKey) not set"))
                }
                return results
            }
            progress(.preparing("Gemma 3 from \(url.lastPathComponent)"))
            let model = try DecoderModel.load(gguf: url)
            try model.use(precision: options.precision)
            let input = try GemmaClassifyBatch.load(gguf: url, sentences: GemmaBenchmarkFiles.sentences())
            for entry in gemmaCatalog where wanted.contains(entry.name) {
                let result = try time(try entry.make(model, input), precision: options.precision)
                results.append(result)
                progress(.finished(result))
            }
        }

        // Qwen2.5-Coder 0.5B.
        if wanted.contains(qwenClassify) {
            let path = ProcessInfo.processInfo.environment["LEGIBLE_QWEN_GGUF"] ?? "models/qwen2.5-coder-0.5b/qwen2.5-coder-0.5b-instruct.gguf"
            guard FileManager.default.fileExists(atPath: path) else {
                progress(.skipped(workload: qwenClassify, reason: "no model at \(path) (scripts/fetch-model qwen2.5-coder-0.5b)"))
                return results
            }
            let url = URL(fileURLWithPath: path)
            progress(.preparing("Qwen2.5-Coder 0.5B from \(url.lastPathComponent)"))
            let model = try DecoderModel.load(gguf: url)
            try model.use(precision: options.precision)
            let input = try GemmaClassifyBatch.load(anyGGUF: url, sentences: GemmaBenchmarkFiles.sentences())
            let result = try time(try GemmaClassifyWorkload(model: model, input: input, name: qwenClassify),
                                  precision: options.precision)
            results.append(result)
            progress(.finished(result))
        }
        return results
    }
}
