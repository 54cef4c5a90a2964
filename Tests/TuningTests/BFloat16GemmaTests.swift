// Gemma 3 270M with bfloat16 products against itself in float32, on SST-2 as the tuners and `eval` score it. Needs
// the model ($LEGIBLE_GEMMA_GGUF, else models/gemma-3-270m/, from scripts/fetch-model); skipped without it, except
// under CI, where it fails.
//
// Tolerances. The issue behind `--precision` asked for label log-probabilities within 2e-2 of float32; bfloat16 does
// not reach it on this model: measured on these 24 sentences, the largest difference is 0.065 without a prompt
// and 0.040-0.045 with five prompt vectors (0.047 and 0.032 with only the weights rounded, so rounding the
// activations is not the main cause), while both precisions predict the same labels. So fp32 stays the default, and this suite holds
// bfloat16 to 0.1, the measured worst with room for other sentences. The two bfloat16 routes (the kernel for few
// rows, sgemm on the rounded values for many) take float32 sums in different orders, and an activation near a
// bfloat16 rounding boundary then rounds the other way on one route: the last logits after 40 tokens differ by up
// to 0.092 (logits of magnitude 10-30); held to 0.2.
import Foundation
import Kernels
import Models
import Testing
import Tasks
import TestSupport
import Tokenizers
@testable import Tuning

enum GemmaFile {
    static let path: String? = {
        if let path = ProcessInfo.processInfo.environment["LEGIBLE_GEMMA_GGUF"] { return path }
        let local = repositoryRoot.appendingPathComponent("models/gemma-3-270m/gemma-3-270m-q4_k_m.gguf").path
        return FileManager.default.fileExists(atPath: local) ? local : nil
    }()
    static var isRequired: Bool { !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty }
}

@Suite(.serialized, .enabled(if: GemmaFile.path != nil || GemmaFile.isRequired, "needs the Gemma 3 270M GGUF (scripts/fetch-model gemma-3-270m)"))
struct BFloat16GemmaTests {
    /// Both precisions of the model, its tokenizer and 48 SST-2 test sentences, loaded once for the suite.
    struct Setup {
        let float32: DecoderModel, bfloat16: DecoderModel
        let task: PromptTask
        let examples: [EncodedExample]

        init() throws {
            let path = try #require(GemmaFile.path, "no Gemma 3 270M GGUF (scripts/fetch-model gemma-3-270m)")
            let url = URL(fileURLWithPath: path)
            float32 = try DecoderModel.load(gguf: url)
            bfloat16 = try DecoderModel.load(gguf: url)
            try bfloat16.use(precision: .bf16)
            let tokenizer = try TokenizerLoader.load(directory: url.deletingLastPathComponent(), ggufFile: url.lastPathComponent)
            task = try PromptTask(name: "sst-2", split: "16-100", dataRoot: repositoryRoot.appendingPathComponent("data/fewshot"),
                                  template: TaskTemplate.pez, tokenizer: tokenizer)
            examples = task.testExamples(limit: 24)
        }
    }
    nonisolated(unsafe) static var loaded: Setup?
    static func setup() throws -> Setup {
        if let loaded { return loaded }
        let made = try Setup()
        loaded = made
        return made
    }

    func largestDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
        zip(a, b).flatMap { zip($0, $1).map { abs($0 - $1) } }.max()!
    }

    @Test func labelLogProbabilitiesStayCloseToFloat32() throws {
        let s = try Self.setup()
        let width = s.float32.width
        // A prompt of five vectors the size of Gemma's input embeddings (rows of norm about 1 times √640).
        let vectors = PromptEmbeddings(length: 5, width: width, values: randomArray(5 * width, seed: 3, scale: 1))
        for prompt in [PromptEmbeddings.empty(width: width), vectors] {
            let exact = try PromptClassifier(model: s.float32, verbalizer: s.task.verbalizer).labelLogProbabilities(s.examples, prompt: prompt)
            let reduced = try PromptClassifier(model: s.bfloat16, verbalizer: s.task.verbalizer).labelLogProbabilities(s.examples, prompt: prompt)
            let difference = largestDifference(exact, reduced)
            print("bf16 label log-probabilities, prompt of \(prompt.length): largest difference \(difference)")
            #expect(difference < 0.1)
            #expect(PromptClassifier.accuracy(exact, s.examples) == PromptClassifier.accuracy(reduced, s.examples))
            #expect(difference > 0, "bfloat16 products left the scores unchanged")
        }
    }

    /// The last position's logits after 40 tokens: the whole sequence in one forward (40 rows: the sgemm route)
    /// against a token at a time through the key/value cache (one row: the kernel route, where the CPU has it).
    @Test func theTwoRoutesAgree() throws {
        let s = try Self.setup()
        let ids = Array((s.examples[0].prefix + s.examples.flatMap(\.suffix)).prefix(40))
        try #require(ids.count == 40)
        let whole = Array(try s.bfloat16.forward(ids: [ids]) { .lastTokens(of: $0) }.row(0))
        let decoder = s.bfloat16.makeDecoder(capacity: 40)
        var stepped: [Float] = []
        for id in ids { stepped = Array(try decoder.append([id])) }
        let difference = zip(whole, stepped).map { abs($0 - $1) }.max()!
        print("bf16 routes: largest logit difference \(difference)")
        #expect(difference < 0.2)
    }
}
