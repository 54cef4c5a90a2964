// Tasks from a researcher's own files: the three formats read the same rows; labels, columns and task
// descriptions resolve as documented; every bad input names its file and line.
import Foundation
import Testing
@testable import Tasks

/// A fresh folder for one test's data root.
func temporaryRoot() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("legible-tasks-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func write(_ text: String, to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
}

@Suite struct DataFileTests {
    /// The rows every format below writes: a comma, quotes, a tab-free line break, non-ASCII text, a name label.
    let expected = [
        DataRow(text: "a fine, moving film", label: "positive", line: 0),
        DataRow(text: "he said \"dull\"", label: "negative", line: 0),
        DataRow(text: "café crème – très bon", label: "positive", line: 0),
        DataRow(text: "two\nlines", label: "1", line: 0),
    ]

    func read(_ name: String, _ text: String, columns: DataColumns = DataColumns()) throws -> [DataRow] {
        let url = try temporaryRoot().appendingPathComponent(name)
        try write(text, to: url)
        return try DataFile.read(url, columns: columns)
    }

    func withoutLines(_ rows: [DataRow]) -> [DataRow] { rows.map { DataRow(text: $0.text, label: $0.label, line: 0) } }

    @Test func csvTsvAndJSONLinesReadTheSameRows() throws {
        // CSV as pandas writes it (quotes only where needed), with CRLF endings and a blank line.
        let csv = "sentence,label\r\n\"a fine, moving film\",positive\r\n\"he said \"\"dull\"\"\",negative\r\n\r\ncafé crème – très bon,positive\r\n\"two\nlines\",1\r\n"
        let jsonl = """
        {"text": "a fine, moving film", "label": "positive"}

        {"text": "he said \\"dull\\"", "label": "negative"}
        {"text": "caf\\u00e9 cr\\u00e8me \\u2013 tr\\u00e8s bon", "label": "positive"}
        {"text": "two\\nlines", "label": 1, "id": 4}
        """
        #expect(withoutLines(try read("train.csv", csv)) == expected)
        #expect(withoutLines(try read("train.jsonl", jsonl)) == expected)
        // TSV fields cannot hold a tab or a line break: the last row is written without one.
        let tsv = "text\tlabel\na fine, moving film\tpositive\nhe said \"dull\"\tnegative\n\ncafé crème – très bon\tpositive\ntwo lines\t1\n"
        var tsvExpected = expected
        tsvExpected[3].text = "two lines"
        #expect(withoutLines(try read("train.tsv", tsv)) == tsvExpected)
    }

    @Test func rowsKeepTheLineTheyStartOn() throws {
        let csv = "sentence,label\n\"two\nlines\",0\n\nnext,1\n"
        #expect(try read("dev.csv", csv).map(\.line) == [2, 5])
        #expect(try read("dev.jsonl", "\n{\"text\": \"a\", \"label\": 0}\n\n{\"text\": \"b\", \"label\": 1}").map(\.line) == [2, 4])
        #expect(try read("dev.tsv", "sentence\tlabel\r\n\r\na\t0\r\nb\t1").map(\.line) == [3, 4])
    }

    @Test func otherColumnNamesAreChosenByFlag() throws {
        let csv = "id,review,stars\n1,great stuff,positive\n2,awful,negative\n"
        let rows = try read("train.csv", csv, columns: DataColumns(text: "review", label: "stars"))
        #expect(rows.map(\.text) == ["great stuff", "awful"] && rows.map(\.label) == ["positive", "negative"])
    }

    @Test func badFilesAreNamedWithTheirLine() throws {
        let root = try temporaryRoot()
        func error(_ name: String, _ text: String) throws -> DatasetError? {
            let url = root.appendingPathComponent(name)
            try write(text, to: url)
            do { _ = try DataFile.read(url); return nil } catch let error as DatasetError { return error }
        }
        #expect(try error("a.csv", "sentence,stars\nx,1\n") == .missingColumn(file: root.appendingPathComponent("a.csv").path, line: 1, column: "label", header: ["sentence", "stars"]))
        #expect(try error("b.tsv", "review\tlabel\nx\t1\n") == .missingColumn(file: root.appendingPathComponent("b.tsv").path, line: 1, column: "sentence or text", header: ["review", "label"]))
        #expect(try error("c.jsonl", "{\"text\": \"x\", \"label\": 0}\n{\"text\": \"y\"}\n") == .missingColumn(file: root.appendingPathComponent("c.jsonl").path, line: 2, column: "label", header: ["text"]))
        #expect(try error("d.jsonl", "{\"text\": \"x\", \"label\": 0}\nnot json\n") == .malformed(file: root.appendingPathComponent("d.jsonl").path, line: 2, reason: "not a JSON object"))
        #expect(try error("e.csv", "sentence,label\n\"never closed,1\n") == .malformed(file: root.appendingPathComponent("e.csv").path, line: 2, reason: "a quoted field is never closed"))
        #expect(try error("f.tsv", "sentence\tlabel\nonly one field\n") == .malformed(file: root.appendingPathComponent("f.tsv").path, line: 2, reason: "expected 2 tab-separated fields, found 1"))
        #expect(try error("g.csv", "sentence,label\n\n") == .empty(root.appendingPathComponent("g.csv").path))
        #expect(try error("h.csv", "") == .empty(root.appendingPathComponent("h.csv").path))
        #expect(try error("i.jsonl", "{\"text\": true, \"label\": 0}\n") == .malformed(file: root.appendingPathComponent("i.jsonl").path, line: 1, reason: "sentence must be a string or a number"))
    }
}

@Suite struct TaskDataTests {
    /// A task folder with one split; `rows` are (text, label) for each of train, dev and test.
    func makeTask(_ name: String = "reviews", format: String = "csv", labels: [String] = ["good", "bad", "good", "bad"],
                  description: String? = nil, in root: URL? = nil) throws -> URL {
        let root = try root ?? temporaryRoot()
        for file in ["train", "dev", "test"] {
            let url = root.appendingPathComponent("\(name)/split-1/\(file).\(format)")
            let separator = format == "tsv" ? "\t" : ","
            try write((["text\(separator)label"] + labels.enumerated().map { "review \($0)\(separator)\($1)" }).joined(separator: "\n") + "\n", to: url)
        }
        if let description { try write(description, to: root.appendingPathComponent("\(name)/task.json")) }
        return root
    }

    @Test func labelNamesComeFromTheDataWhenNothingNamesThem() throws {
        let task = try TaskData(name: "reviews", split: nil, root: try makeTask())
        #expect(task.split == "split-1")  // the only split
        #expect(task.definition.labels == ["bad", "good"] && task.definition.labelWords == [" bad", " good"])
        #expect(task.definition.manualPrompt == nil)
        #expect(task.data.train.map(\.label) == [1, 0, 1, 0])
    }

    @Test func taskJSONGivesOrderWordsAndPromptAndFlagsOverrideIt() throws {
        let json = #"{"labels": ["good", "bad"], "label_words": [" great", " awful"], "manual_prompt": "In short, it was", "template": "rlprompt"}"#
        let root = try makeTask(description: json)
        let task = try TaskData(name: "reviews", split: "split-1", root: root)
        #expect(task.definition.labels == ["good", "bad"] && task.definition.labelWords == [" great", " awful"])
        #expect(task.definition.manualPrompt == "In short, it was" && task.definition.template == "rlprompt")
        #expect(task.data.train.map(\.label) == [0, 1, 0, 1])
        let flagged = try TaskData(name: "reviews", split: nil, root: root, overrides: TaskDescription(labelWords: [" fine", " poor"]))
        #expect(flagged.definition.labelWords == [" fine", " poor"] && flagged.definition.labels == ["good", "bad"])
    }

    @Test func integerLabelsNeedWordsAndPresetsFillThem() throws {
        let root = try makeTask(labels: ["0", "1", "1", "0"])
        #expect(throws: DatasetError.noLabelWords(task: "reviews")) { try TaskData(name: "reviews", split: nil, root: root) }
        let worded = try TaskData(name: "reviews", split: nil, root: root, overrides: TaskDescription(labelWords: [" no", " yes"]))
        #expect(worded.definition.labels == ["0", "1"] && worded.data.test.map(\.label) == [0, 1, 1, 0])
        // A known task's preset fills what its folder does not say.
        let sst = try TaskData(name: "sst-2", split: nil, root: try makeTask("sst-2", format: "tsv", labels: ["0", "1", "1", "0"]))
        #expect(sst.definition.labelWords == [" terrible", " great"] && sst.definition.manualPrompt == "Overall, the movie was")
    }

    @Test func badTasksAreNamedClearly() throws {
        let root = try makeTask(description: #"{"labels": ["good", "bad"]}"#)
        let test = root.appendingPathComponent("reviews/split-1/test.csv")
        try write("text,label\nfine,good\nodd,meh\n", to: test)
        #expect(throws: DatasetError.unknownLabel(file: test.path, line: 3, label: "meh", labels: ["good", "bad"])) {
            try TaskData(name: "reviews", split: nil, root: root)
        }
        try write("text,label\nfine,2\n", to: test)
        #expect(throws: DatasetError.unknownLabel(file: test.path, line: 2, label: "2", labels: ["good", "bad"])) {
            try TaskData(name: "reviews", split: nil, root: root)
        }
        let train = root.appendingPathComponent("reviews/split-1/train.csv")
        try write("text,label\nfine,good\nnice,0\n", to: test)
        try write("text,label\na,good\nb,good\n", to: train)
        #expect(throws: DatasetError.oneClass(file: train.path, label: "good")) { try TaskData(name: "reviews", split: nil, root: root) }
        #expect(throws: DatasetError.unknownSplit(task: "reviews", split: "16-7", available: ["split-1"])) {
            try TaskData(name: "reviews", split: "16-7", root: root)
        }
        #expect(throws: DatasetError.missingTask("movies", root: root.path, available: ["reviews"])) {
            try TaskData(name: "movies", split: nil, root: root)
        }
        try write("text,label\na,good\n", to: root.appendingPathComponent("reviews/split-1/train.jsonl"))
        #expect(throws: DatasetError.ambiguousFile(root.appendingPathComponent("reviews/split-1/train").path, candidates: ["train.csv", "train.jsonl"])) {
            try TaskData(name: "reviews", split: nil, root: root)
        }
        let counts = try makeTask(description: #"{"labels": ["good", "bad"], "label_words": [" great"]}"#)
        #expect(throws: DatasetError.malformed(file: counts.appendingPathComponent("reviews/task.json").path, line: 0, reason: "2 labels but 1 label words")) {
            try TaskData(name: "reviews", split: nil, root: counts)
        }
    }

    @Test func splitsAreTheFoldersThatExist() throws {
        let root = try makeTask()
        try write("text,label\na,good\nb,bad\n", to: root.appendingPathComponent("reviews/16-100/train.csv"))
        try FileManager.default.createDirectory(at: root.appendingPathComponent("reviews/notes"), withIntermediateDirectories: true)
        #expect(TaskData.splits(of: root.appendingPathComponent("reviews")) == ["16-100", "split-1"])
        #expect(TaskData.tasks(in: root) == ["reviews"])
        #expect(throws: DatasetError.self) { try TaskData(name: "reviews", split: nil, root: root) }  // 16-100 lacks dev and test
        #expect(try TaskData(name: "reviews", split: "split-1", root: root).data.test.count == 4)
    }
}

@Suite struct TemplateTextTests {
    @Test func renderingNeverChangesThePromptOrTheSentence() throws {
        let rl = try TaskTemplate(TaskTemplate.rlprompt), pez = try TaskTemplate(TaskTemplate.pez)
        // Whitespace inside the prompt and the sentence is theirs: only the join and the prompt's leading space go.
        #expect(rl.render(sentence: "a  wide   gap", prompt: "  It  was\tso") == "a  wide   gap It  was\tso")
        #expect(pez.render(sentence: "film", prompt: " Review:  ") == "Review:  film It was")
        #expect(pez.render(sentence: "film", prompt: "") == "film It was")
        #expect(rl.render(sentence: "film", prompt: "") == "film")
        let both = try TaskTemplate("Q: {sentence} {prompt} A:")
        #expect(both.render(sentence: "why?", prompt: "") == "Q: why? A:")
    }
}

@Suite struct TestSubsetTests {
    @Test func aLimitSpreadsTheRowsOverTheFile() {
        #expect(PromptTask.testIndices(count: 10, limit: 4) == [0, 2, 5, 7])
        #expect(PromptTask.testIndices(count: 3, limit: 5) == [0, 1, 2])
        #expect(PromptTask.testIndices(count: 3, limit: nil) == [0, 1, 2])
        // MR's test file: 1,000 negatives then 1,000 positives. The first 600 rows would all be negative.
        let labels = Array(repeating: 0, count: 1000) + Array(repeating: 1, count: 1000)
        let chosen = PromptTask.testIndices(count: labels.count, limit: 600).map { labels[$0] }
        #expect(chosen.count == 600 && chosen.filter { $0 == 1 }.count == 300)
        // The first rows, as studies begun before the spread keep measuring.
        #expect(PromptTask.testIndices(count: 10, limit: 4, rows: .first) == [0, 1, 2, 3])
        #expect(PromptTask.testIndices(count: 3, limit: 5, rows: .first) == [0, 1, 2])
    }
}
