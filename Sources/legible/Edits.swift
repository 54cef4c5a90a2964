// `legible edits`: what kinds of token changes a discrete search made, and what they did, over one run or a sweep.
import ArgumentParser
import Explanations
import Foundation
import Reports
import WeightFiles

struct Edits: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sort a gcg run's (or a sweep's) accepted token changes into families and summarize each.",
        discussion: """
        Reads OUT/edits.jsonl of one run folder, or of every run under SWEEP/runs/. Each edit goes to the first \
        family whose rule its new token meets: repetition (already elsewhere in the prompt), punctuation and \
        whitespace, non-Latin script (a letter outside Latin), label-word-like (a label word, or with --model an \
        embedding cosine of at least \(EditFamily.labelWordCosine) to one), instruction word, function word (two short \
        lexicons, in Sources/Explanations/EditFamilies.swift), word fragment (letters with no leading space), other. \
        Per family: the count, the mean change in task loss and in log-perplexity the edit made, and, among edits made \
        at a step evaluated on dev, the share that beat the evaluation before it. With a sweep, the same per task and \
        method. Observational: the search chose these edits; a family's numbers are not what such an edit would do anywhere.
        """)

    @Argument(help: ArgumentHelp("A run folder (with edits.jsonl) or a sweep folder (with runs/).", valueName: "run-or-sweep"))
    var path: String
    @Option(help: ArgumentHelp("A model whose embeddings decide the label-word-like family by cosine (without it: only the label words themselves).", valueName: "folder"))
    var model: String?
    @Option(help: ArgumentHelp("Also write edits.html, a page that reads offline, into this folder.", valueName: "folder")) var out: String?
    @Flag(help: "Print the analysis as JSON.") var json = false

    func run() throws {
        let folder = URL(fileURLWithPath: path)
        let manager = FileManager.default
        let runsFolder = folder.appendingPathComponent("runs")
        var runFolders: [URL]
        if manager.fileExists(atPath: folder.appendingPathComponent("run.json").path) {
            runFolders = [folder]
        } else if let names = try? manager.contentsOfDirectory(atPath: runsFolder.path) {
            runFolders = names.sorted().map { runsFolder.appendingPathComponent($0) }
                .filter { manager.fileExists(atPath: $0.appendingPathComponent("run.json").path) }
        } else {
            throw CLIError("\(path) is neither a run folder (no run.json) nor a sweep folder (no runs/)")
        }
        runFolders = runFolders.filter { manager.fileExists(atPath: $0.appendingPathComponent("edits.jsonl").path) }
        guard !runFolders.isEmpty else { throw CLIError("\(path) holds no edits.jsonl: only gcg runs record their edits") }

        let cosine = try model.map { folder in
            let loaded = try LoadedModel.load(try ModelOptions.parse(["--model", folder]))
            return LabelWordCosine(model: loaded.model, tokenizer: try loaded.requireTokenizer())
        }
        let runs = try runFolders.map { try RunEdits(run: $0) { id, words in cosine?.largest(id, words: words) } }
        let analysis = EditAnalysis(runs)
        if let out {
            let folder = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try AtomicFile.write(Data(ExplanationPage.html(analysis).utf8), to: folder.appendingPathComponent("edits.html"))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            print(String(decoding: try encoder.encode(analysis), as: UTF8.self))
        } else {
            print(EditAnalysisText.render(analysis))
        }
    }
}
