// Tasks from disk: templates, verbalizers, prompt files, and the errors a user sees for bad input.
import Foundation
import Kernels
import Models
import Reports
import Runs
import Sweeps
import Tasks
import Testing
import Tokenizers
@testable import Tuning

@Suite struct TaskTests {
    let tokenizer = Tiny.tokenizer

    @Test func templatesSplitAroundThePromptSlot() throws {
        let example = LabeledText(text: "a fine film", label: 1)
        let pez = try TaskTemplate(TaskTemplate.pez).encode(example, tokenizer: tokenizer, maxSentenceTokens: 64)
        #expect(pez.prefix.isEmpty)
        #expect(pez.suffix == tokenizer.encode(" a fine film It was"))
        let rl = try TaskTemplate(TaskTemplate.rlprompt).encode(example, tokenizer: tokenizer, maxSentenceTokens: 64)
        #expect(rl.prefix == tokenizer.encode("a fine film") && rl.suffix.isEmpty)
        let text = try TaskTemplate(TaskTemplate.pez).encode(example, promptText: " Movie review:", tokenizer: tokenizer, maxSentenceTokens: 64)
        #expect(tokenizer.decode(text.prefix) == "Movie review: a fine film It was")
        #expect(try TaskTemplate(TaskTemplate.pez).render(sentence: "x", prompt: "") == "x It was")
        let long = LabeledText(text: Array(repeating: "word", count: 50).joined(separator: " "), label: 0)
        #expect(try TaskTemplate(TaskTemplate.rlprompt).encode(long, tokenizer: tokenizer, maxSentenceTokens: 8).prefix.count == 8)
    }

    @Test func verbalizersAreOneTokenOrMore() throws {
        let single = try Verbalizer(words: [" terrible", " great"], tokenizer: tokenizer)
        #expect(single.tokens == [[7818], [1049]] && single.isSingleToken)
        let mixed = try Verbalizer(words: [" unwatchable", " great"], tokenizer: tokenizer)  // " unw" "atch" "able"
        #expect(mixed.tokens == [[7379, 963, 540], [1049]] && !mixed.isSingleToken)
        #expect(mixed.firstTokens == [7379, 1049])
        #expect(throws: TemplateError.emptyVerbalizer(word: "")) { try Verbalizer(words: ["", " great"], tokenizer: tokenizer) }
    }

    @Test func badTasksAndDataAreNamedClearly() throws {
        let root = try Tiny.dataRoot()
        #expect(throws: DatasetError.missingTask("imdb", root: root.path, available: ["sst-2"])) {
            try PromptTask(name: "imdb", split: "16-100", dataRoot: root, template: TaskTemplate.pez, tokenizer: tokenizer)
        }
        #expect(throws: DatasetError.unknownSplit(task: "sst-2", split: "16-7", available: ["16-100"])) {
            try PromptTask(name: "sst-2", split: "16-7", dataRoot: root, template: TaskTemplate.pez, tokenizer: tokenizer)
        }
        let empty = try Tiny.dataRoot(emptyTest: true)
        #expect(throws: DatasetError.empty(empty.appendingPathComponent("sst-2/16-100/test.tsv").path)) {
            try PromptTask(name: "sst-2", split: "16-100", dataRoot: empty, template: TaskTemplate.pez, tokenizer: tokenizer)
        }
        #expect(throws: TemplateError.missingPlaceholder("{prompt}", template: "{sentence} It was")) {
            try PromptTask(name: "sst-2", split: "16-100", dataRoot: root, template: "{sentence} It was", tokenizer: tokenizer)
        }
        let badLabel = root.appendingPathComponent("sst-2/16-100/dev.tsv")
        try "sentence\tlabel\nfine\t7\n".write(to: badLabel, atomically: true, encoding: .utf8)
        #expect(throws: DatasetError.unknownLabel(file: badLabel.path, line: 2, label: "7", labels: ["negative", "positive"])) {
            try PromptTask(name: "sst-2", split: "16-100", dataRoot: root, template: TaskTemplate.pez, tokenizer: tokenizer)
        }
    }

    @Test func realDataLoads() throws {
        let task = try PromptTask(name: "sst-2", split: "16-100", dataRoot: repositoryRoot.appendingPathComponent("data/fewshot"),
                                  template: TaskTemplate.pez, tokenizer: tokenizer)
        #expect(task.train.count == 32 && task.dev.count == 32 && task.test.count == 1821)
        #expect(Set(task.train.map(\.label)) == [0, 1])
    }

    @Test func promptFilesRoundTripAndRefuseOtherModels() throws {
        let prompt = PromptEmbeddings(length: 2, width: 3, values: [1, 2, 3, 4, 5, 6])
        let metadata = PromptMetadata(model: "tiny", modelSHA256: "abc123", method: "pez", task: "sst-2", split: "16-100",
                                      template: TaskTemplate.pez, verbalizers: [" terrible", " great"], ids: [7, 8],
                                      text: " hello world", configuration: Tiny.configuration(.pez))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("legible-prompt-\(UUID().uuidString).safetensors")
        try PromptFile(prompt: prompt, metadata: metadata).write(to: url)
        let read = try PromptFile.read(from: url, modelSHA256: "abc123")
        #expect(read == PromptFile(prompt: prompt, metadata: metadata))
        #expect(throws: PromptFileError.self) { try PromptFile.read(from: url, modelSHA256: "def456") }
        let nan = PromptEmbeddings(length: 2, width: 3, values: [1, .nan, 3, 4, 5, 6])
        try PromptFile(prompt: nan, metadata: metadata).write(to: url)
        #expect(throws: PromptFileError.notFinite(url.path)) { try PromptFile.read(from: url) }
    }

    /// A prompt of width 0 may claim any number of rows in an empty tensor (fuzzing found 10^15 of them); rows and
    /// ids that disagree cannot both be the prompt.
    @Test(arguments: [(2, 0, [7, 8]), (2, 3, [7, 8, 9])])
    func promptFilesWhoseTensorAndIdsDisagreeAreRefused(length: Int, width: Int, ids: [Int32]) throws {
        let prompt = PromptEmbeddings(length: length, width: width, values: [Float](repeating: 1, count: length * width))
        let metadata = PromptMetadata(model: "tiny", modelSHA256: "abc123", method: "pez", task: "sst-2", split: "16-100",
                                      template: TaskTemplate.pez, verbalizers: [" terrible", " great"], ids: ids,
                                      text: " hello world", configuration: nil)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("legible-prompt-\(UUID().uuidString).safetensors")
        try PromptFile(prompt: prompt, metadata: metadata).write(to: url)
        #expect(throws: PromptFileError.malformed(url.path, reason: "its prompt is \(length) × \(width) for \(ids.count) token ids")) {
            try PromptFile.read(from: url)
        }
    }

    @Test func readabilityMetrics() {
        let ids = tokenizer.encode(" the the movie,é")
        let metrics = ReadabilityMetrics(ids: ids, tokenizer: tokenizer)
        #expect(metrics.distinctRatio == Double(Set(ids).count) / Double(ids.count))
        #expect(metrics.wordRatio == 3 / Double(ids.count))
        #expect(metrics.oddTokens == 1)
    }
}
