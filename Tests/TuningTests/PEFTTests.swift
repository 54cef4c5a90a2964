// PEFT prompt-tuning adapters: Legible's export and import against adapters Hugging Face PEFT itself made and the
// label log-probabilities PEFT computed with them (Fixtures/peft, written by scripts/make_peft_reference.py).
//
// Tolerances. The vectors cross unchanged, so reading and writing are exact. Log-probabilities (normalized over the
// two label words) differ only by float32 summation order between PyTorch and Legible: 1e-4 on the tiny GPT-2
// (width 60, two layers), 2e-3 on Gemma 3 270M, whose logits agree with transformers within 1e-3 (Gemma3ParityTests)
// and a log-probability over two words moves by at most the difference of two logits.
import Foundation
import Models
import Runs
import Testing
import Tokenizers
@testable import Tuning

let peftFixtures = repositoryRoot.appendingPathComponent("Tests/TuningTests/Fixtures/peft")

/// reference.json: per model, the examples (token ids, <bos> first), the label word ids, and PEFT's label
/// log-probabilities with the virtual tokens first and with them after <bos>.
struct PEFTReference: Decodable {
    struct Model: Decodable {
        let examples: [[Int32]]
        let label_ids: [Int32]
        let peft_placement: [[Double]]
        let legible_placement: [[Double]]
        let legible_round_trip_max_logprob_diff: Double?
    }
    let virtual_tokens: Int
    let models: [String: Model]

    static func load() throws -> PEFTReference {
        try JSONDecoder().decode(PEFTReference.self, from: Data(contentsOf: peftFixtures.appendingPathComponent("reference.json")))
    }

    /// Legible's label log-probabilities for the model's examples: the prompt before everything (PEFT's placement)
    /// or after the first token (a Legible template's), returning the largest difference from PEFT's.
    static func largestDifference(_ entry: Model, model: any CausalLM, prompt: PromptEmbeddings, peftPlacement: Bool) throws -> Double {
        let verbalizer = Verbalizer(words: entry.label_ids.map { "\($0)" }, tokens: entry.label_ids.map { [$0] })
        let examples = entry.examples.map { ids in
            peftPlacement ? EncodedExample(prefix: [], suffix: ids, label: 0)
                          : EncodedExample(prefix: [ids[0]], suffix: Array(ids.dropFirst()), label: 0)
        }
        let ours = try PromptClassifier(model: model, verbalizer: verbalizer).labelLogProbabilities(examples, prompt: prompt)
        let theirs = peftPlacement ? entry.peft_placement : entry.legible_placement
        return zip(ours, theirs).flatMap { zip($0, $1).map { abs(Double($0) - $1) } }.max()!
    }
}

@Suite struct PEFTTests {
    @Test func anAdapterMadeByPEFTScoresAsPEFTScoresIt() throws {
        let reference = try PEFTReference.load()
        let entry = try #require(reference.models["gpt2-tiny"])
        let adapter = try PEFTAdapter.read(from: peftFixtures.appendingPathComponent("gpt2-tiny-adapter"))
        #expect(adapter.prompt.length == reference.virtual_tokens && adapter.prompt.width == 60)
        #expect(adapter.baseModel == "gpt2-tiny")
        let model = try ModelLoader.load(repositoryRoot.appendingPathComponent("Tests/ModelsTests/Fixtures/gpt2-tiny"))
        #expect(try PEFTReference.largestDifference(entry, model: model, prompt: adapter.prompt, peftPlacement: true) < 1e-4)
        #expect(try PEFTReference.largestDifference(entry, model: model, prompt: adapter.prompt, peftPlacement: false) < 1e-4)
        // The placements differ by more than the tolerance, so each comparison tells them apart.
        #expect(zip(entry.peft_placement, entry.legible_placement).flatMap { zip($0, $1).map { abs($0 - $1) } }.max()! > 1e-2)
    }

    /// Export writes what PEFT wrote: the same tensor, and the configuration keys PEFT reads, with their values.
    @Test func exportWritesTheAdapterPEFTWrote() throws {
        let folder = peftFixtures.appendingPathComponent("gpt2-tiny-adapter")
        let theirs = try PEFTAdapter.read(from: folder)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("legible-peft-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        try theirs.write(to: out)
        #expect(try PEFTAdapter.read(from: out) == theirs)
        func config(_ folder: URL) throws -> [String: Any] {
            try #require(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(PEFTAdapter.configFile))) as? [String: Any])
        }
        let (ours, peft) = (try config(out), try config(folder))
        for key in ["peft_type", "task_type", "num_virtual_tokens", "token_dim", "base_model_name_or_path", "num_transformer_submodules"] {
            #expect("\(ours[key] ?? "missing")" == "\(peft[key] ?? "missing")", "\(key)")
        }
    }

    @Test func readingRefusesWhatIsNotACausalPromptTuningAdapter() throws {
        let source = peftFixtures.appendingPathComponent("gpt2-tiny-adapter")
        func adapter(editing edit: (inout [String: Any]) -> Void) throws -> URL {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("legible-peft-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: source.appendingPathComponent(PEFTAdapter.weightsFile), to: folder.appendingPathComponent(PEFTAdapter.weightsFile))
            var config = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent(PEFTAdapter.configFile))) as? [String: Any])
            edit(&config)
            try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent(PEFTAdapter.configFile))
            return folder
        }
        func reason(_ folder: URL) -> String {
            do { _ = try PEFTAdapter.read(from: folder); return "read" } catch { return "\(error)" }
        }
        #expect(reason(try adapter { $0["peft_type"] = "LORA" }).contains("peft_type is LORA, not PROMPT_TUNING"))
        #expect(reason(try adapter { $0["task_type"] = "SEQ_CLS" }).contains("task_type is SEQ_CLS, not CAUSAL_LM"))
        #expect(reason(try adapter { $0["num_virtual_tokens"] = 6 }).contains("is 5 × 60 for 6 virtual tokens"))
        #expect(reason(try adapter { $0["token_dim"] = 64 }).contains("token_dim 64 differs from the tensor's width 60"))
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("legible-peft-\(UUID().uuidString)")
        #expect(reason(empty).contains("does not exist"))
    }

    /// On the real model, PEFT's own adapter and PEFT's own numbers, both placements; and the `legible import` →
    /// `legible export` round trip, which the script checked through PEFT, changed nothing.
    @Test(.enabled(if: GemmaFile.path != nil || GemmaFile.isRequired, "needs the Gemma 3 270M GGUF (scripts/fetch-model gemma-3-270m)"))
    func gemmaScoresAsPEFTScoresIt() throws {
        let path = try #require(GemmaFile.path, "no Gemma 3 270M GGUF (scripts/fetch-model gemma-3-270m)")
        let reference = try PEFTReference.load()
        let entry = try #require(reference.models["gemma-3-270m"])
        let adapter = try PEFTAdapter.read(from: peftFixtures.appendingPathComponent("gemma-3-270m-adapter"))
        #expect(adapter.baseModel == "google/gemma-3-270m" && adapter.prompt.width == 640)
        let model = try DecoderModel.load(gguf: URL(fileURLWithPath: path))
        let before = try PEFTReference.largestDifference(entry, model: model, prompt: adapter.prompt, peftPlacement: true)
        let after = try PEFTReference.largestDifference(entry, model: model, prompt: adapter.prompt, peftPlacement: false)
        print("PEFT against Legible, Gemma 3 270M: largest label log-probability difference \(before) (PEFT's placement), \(after) (after <bos>)")
        #expect(before < 2e-3 && after < 2e-3)
        #expect(entry.legible_round_trip_max_logprob_diff == 0)
    }
}
