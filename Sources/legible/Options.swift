// Options shared by the commands that load a model.
import ArgumentParser
import Foundation
import Kernels
import Models
import Runs

struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Model to load: a folder holding a Gemma 3 .gguf, a .gguf file, or a Hugging Face GPT-2 folder (config.json, model.safetensors, tokenizer files).",
        valueName: "path"))
    var model: String

    @Option(name: .long, help: "BLAS threads (default: OpenBLAS's own choice, usually one per core).")
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp(
        "Precision of the frozen weights' matrix products: fp32, or bf16 (weights rounded to bfloat16 when the model loads, each product's inputs rounded as they enter, sums in float32: PyTorch's bfloat16 autocast arithmetic). bf16 speeds up products of few rows — decoding, RLPrompt's rollouts — on CPUs with AVX512-BF16 or AVX2, and moves label log-probabilities on Gemma 3 270M by up to about 0.06; see docs/BENCHMARKS.md, \"Reduced precision\".",
        valueName: "fp32|bf16"))
    var precision: Precision = .fp32

    func validate() throws {
        if let threads { try Self.validate(threads: threads) }
        guard FileManager.default.fileExists(atPath: model) else {
            throw ValidationError("no model at '\(model)'; scripts/fetch-model downloads one into models/")
        }
    }

    /// More BLAS threads than cores never helps, and OpenBLAS's pool of hundreds can hang at exit.
    static func validate(threads: Int) throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if threads < 1 || threads > cores { throw ValidationError("--threads must be between 1 and this machine's \(cores) cores") }
    }

    /// Puts the loaded model's products in the chosen precision.
    func applyPrecision(to model: any CausalLM) throws {
        guard precision != .fp32 else { return }
        guard let decoder = model as? DecoderModel else { throw CLIError("this model cannot change precision") }
        try decoder.use(precision: precision)
    }

    func applyThreads() {
        if let threads { BLAS.setThreads(threads) }
    }
}

/// Where the zero-shot baselines' scores are kept between runs (see ZeroShotCache).
struct ZeroShotCacheOptions: ParsableArguments {
    @Flag(name: .customLong("no-zero-shot-cache"), help: ArgumentHelp(
        "Compute the zero-shot baselines (no prompt, the manual prompt) afresh and keep them only for this process. By default they are read from and written to $LEGIBLE_CACHE_DIR, else $XDG_CACHE_HOME/legible, else ~/.cache/legible, under zero-shot/<the weights' sha256>/, keyed by the test examples' token ids and the label words."))
    var noZeroShotCache = false

    func cache(modelSHA256: String) -> ZeroShotCache {
        noZeroShotCache ? ZeroShotCache() : ZeroShotCache.userCache(modelSHA256: modelSHA256)
    }
}

/// Parses "1,2,3" or "1 2 3" into token ids.
func parseIds(_ text: String) throws -> [Int32] {
    let parts = text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" || $0 == "\t" })
    return try parts.map { part in
        guard let id = Int32(part), id >= 0 else { throw ValidationError("'\(part)' is not a token id") }
        return id
    }
}

extension Precision: ExpressibleByArgument {}
