// A task's data on disk: ROOT/<task>/<split>/{train,dev,test}.{tsv,csv,jsonl}, an optional ROOT/<task>/task.json,
// and whatever split folders exist. Labels are integers from 0 or names; loading maps them to classes and says
// exactly which file, line and value does not fit.
import Foundation

public struct LabeledText: Sendable, Equatable {
    public var text: String
    public var label: Int

    public init(text: String, label: Int) { self.text = text; self.label = label }
}

public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case missingTask(String, root: String, available: [String])
    case unknownSplit(task: String, split: String, available: [String])
    case missingFile(String)
    case ambiguousFile(String, candidates: [String])
    case missingColumn(file: String, line: Int, column: String, header: [String])
    case malformed(file: String, line: Int, reason: String)
    case unknownLabel(file: String, line: Int, label: String, labels: [String])
    case noLabelWords(task: String)
    case labelCount(task: String, labels: Int, words: Int)
    case oneClass(file: String, label: String)
    case empty(String)

    public var description: String {
        switch self {
        case .missingTask(let task, let root, let available):
            return "no task '\(task)' in \(root) (a task is a folder <task>/<split>/{train,dev,test}.tsv|csv|jsonl); "
                + (available.isEmpty ? "it holds no task folders; is --data pointing at the right place?" : "tasks there: \(available.joined(separator: ", "))")
        case .unknownSplit(let task, let split, let available):
            return "task \(task) has no split '\(split)'; available: \(available.isEmpty ? "none" : available.joined(separator: ", "))"
        case .missingFile(let path): return "\(path) not found"
        case .ambiguousFile(let path, let candidates): return "\(path): several files could be it (\(candidates.joined(separator: ", "))); keep one"
        case .missingColumn(let file, let line, let column, let header):
            return "\(file), line \(line): no \(column) column (found: \(header.joined(separator: ", "))); name it with --text-column or --label-column"
        case .malformed(let file, let line, let reason): return line > 0 ? "\(file), line \(line): \(reason)" : "\(file): \(reason)"
        case .unknownLabel(let file, let line, let label, let labels):
            return "\(file), line \(line): label '\(label)' is not one of the task's classes (\(labels.joined(separator: ", ")), or 0..<\(labels.count))"
        case .noLabelWords(let task):
            return "task \(task) has integer labels and no label words: give --verbalizer once per class, or \"label_words\" in \(task)/task.json"
        case .labelCount(let task, let labels, let words):
            return "task \(task) has \(labels) classes but \(words) label words"
        case .oneClass(let file, let label): return "\(file) holds examples of one class only ('\(label)'); tuning needs at least two"
        case .empty(let path): return "\(path) holds no examples"
        }
    }
}

public struct FewShotSplit: Sendable {
    public var train: [LabeledText]
    public var dev: [LabeledText]
    public var test: [LabeledText]

    public init(train: [LabeledText], dev: [LabeledText], test: [LabeledText]) {
        self.train = train; self.dev = dev; self.test = test
    }
}

/// A task folder: its splits and its rows, before they meet a tokenizer.
public struct TaskData: Sendable {
    public let definition: TaskDefinition
    public let split: String
    public let data: FewShotSplit

    /// The split used when none is named: 16-100 (the shipped tasks' first seed) if present, else the only one.
    public static let preferredSplit = "16-100"

    /// Reads `root/name/split` with the description resolved from `overrides`, task.json and the preset, in that order.
    public init(name: String, split: String?, root: URL, overrides: TaskDescription = TaskDescription()) throws {
        let folder = root.appendingPathComponent(name)
        guard Self.isDirectory(folder) else {
            throw DatasetError.missingTask(name, root: root.path, available: Self.tasks(in: root))
        }
        let description = overrides.filling(from: try TaskDescription.read(taskFolder: folder)).filling(from: TaskCatalog.preset(named: name))
        let splits = Self.splits(of: folder)
        let chosen = try split ?? Self.defaultSplit(splits, task: name)
        guard splits.contains(chosen) else { throw DatasetError.unknownSplit(task: name, split: chosen, available: splits) }
        let splitFolder = folder.appendingPathComponent(chosen)
        let files = try ["train", "dev", "test"].map { try Self.file(named: $0, in: splitFolder) }
        let rows = try files.map { try DataFile.read($0, columns: description.columns) }
        let definition = try Self.resolve(name: name, description: description, rows: rows.joined())
        let classes = try zip(files, rows).map { file, rows in try Self.classes(of: rows, file: file.path, definition: definition) }
        if Set(classes[0].map(\.label)).count < 2, let only = classes[0].first {
            throw DatasetError.oneClass(file: files[0].path, label: definition.labels[only.label])
        }
        self.definition = definition
        self.split = chosen
        data = FewShotSplit(train: classes[0], dev: classes[1], test: classes[2])
    }

    /// Label names and words: given, or read off the data (names sorted; each word the name after a space).
    static func resolve(name: String, description: TaskDescription, rows: some Sequence<DataRow>) throws -> TaskDefinition {
        var labels = description.labels
        var words = description.labelWords
        if labels == nil {
            let written = Set(rows.map(\.label))
            if written.allSatisfy({ Int($0) != nil }) {
                guard let words else { throw DatasetError.noLabelWords(task: name) }
                labels = words.indices.map(String.init)
            } else {
                labels = written.sorted()
            }
        }
        words = words ?? labels!.map { " " + $0 }
        guard labels!.count == words!.count else { throw DatasetError.labelCount(task: name, labels: labels!.count, words: words!.count) }
        guard labels!.count >= 2 else { throw DatasetError.labelCount(task: name, labels: labels!.count, words: words!.count) }
        return TaskDefinition(name: name, labels: labels!, labelWords: words!, manualPrompt: description.manualPrompt,
                              description: description.description, template: description.template, columns: description.columns)
    }

    /// Rows with their labels as class indices: a label name, else an integer below the class count.
    static func classes(of rows: [DataRow], file: String, definition: TaskDefinition) throws -> [LabeledText] {
        let index = Dictionary(definition.labels.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        return try rows.map { row in
            if let label = index[row.label] ?? Int(row.label).flatMap({ (0..<definition.classes).contains($0) ? $0 : nil }) {
                return LabeledText(text: row.text, label: label)
            }
            throw DatasetError.unknownLabel(file: file, line: row.line, label: row.label, labels: definition.labels)
        }
    }

    static func defaultSplit(_ splits: [String], task: String) throws -> String {
        if splits.contains(preferredSplit) { return preferredSplit }
        if splits.count == 1 { return splits[0] }
        throw DatasetError.unknownSplit(task: task, split: preferredSplit, available: splits)
    }

    /// `train.tsv`, `train.csv` or `train.jsonl`: exactly one of them.
    static func file(named name: String, in folder: URL) throws -> URL {
        let candidates = DataFileFormat.allCases.map { folder.appendingPathComponent("\(name).\($0.rawValue)") }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
        guard let first = candidates.first else {
            throw DatasetError.missingFile(folder.appendingPathComponent("\(name).{tsv,csv,jsonl}").path)
        }
        guard candidates.count == 1 else { throw DatasetError.ambiguousFile(folder.appendingPathComponent(name).path, candidates: candidates.map(\.lastPathComponent)) }
        return first
    }

    /// Task folders under a data root: folders holding at least one split.
    public static func tasks(in root: URL) -> [String] {
        subfolders(of: root).filter { !splits(of: root.appendingPathComponent($0)).isEmpty }
    }

    /// Split folders of a task: folders holding a train file.
    public static func splits(of taskFolder: URL) -> [String] {
        subfolders(of: taskFolder).filter { split in
            DataFileFormat.allCases.contains { FileManager.default.fileExists(atPath: taskFolder.appendingPathComponent("\(split)/train.\($0.rawValue)").path) }
        }
    }

    static func subfolders(of url: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [])
            .filter { !$0.hasPrefix(".") && isDirectory(url.appendingPathComponent($0)) }.sorted()
    }

    public static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
