// The 16-shot splits of RLPrompt and LM-BFF: data/fewshot/<task>/<split>/{train,dev,test}.tsv, tab-separated
// with a header (`sentence` or `text`, then `label`), labels counted from 0.
import Foundation

public struct LabeledText: Sendable, Equatable {
    public var text: String
    public var label: Int

    public init(text: String, label: Int) { self.text = text; self.label = label }
}

public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case unknownTask(String, known: [String])
    case unknownSplit(task: String, split: String, available: [String])
    case missingFile(String)
    case malformed(file: String, line: Int, reason: String)
    case empty(String)

    public var description: String {
        switch self {
        case .unknownTask(let task, let known): return "unknown task '\(task)'; known tasks: \(known.joined(separator: ", "))"
        case .unknownSplit(let task, let split, let available):
            return "task \(task) has no split '\(split)'; available: \(available.isEmpty ? "none" : available.joined(separator: ", "))"
        case .missingFile(let path): return "\(path) not found (is --data pointing at a data/fewshot folder?)"
        case .malformed(let file, let line, let reason): return "\(file), line \(line): \(reason)"
        case .empty(let path): return "\(path) holds no examples"
        }
    }
}

public struct FewShotSplit: Sendable {
    public var train: [LabeledText]
    public var dev: [LabeledText]
    public var test: [LabeledText]

    /// Reads one split of one dataset, checking labels against the class count.
    public static func load(root: URL, dataset: String, split: String, classes: Int) throws -> FewShotSplit {
        let directory = root.appendingPathComponent(dataset)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DatasetError.missingFile(directory.path)
        }
        let splitDirectory = directory.appendingPathComponent(split)
        guard FileManager.default.fileExists(atPath: splitDirectory.path) else {
            let available = (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.sorted() ?? []
            throw DatasetError.unknownSplit(task: dataset, split: split, available: available)
        }
        func read(_ name: String) throws -> [LabeledText] {
            try readTSV(splitDirectory.appendingPathComponent("\(name).tsv"), classes: classes)
        }
        return FewShotSplit(train: try read("train"), dev: try read("dev"), test: try read("test"))
    }

    static func readTSV(_ url: URL, classes: Int) throws -> [LabeledText] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw DatasetError.missingFile(url.path) }
        // Files come with \n or \r\n endings; Swift treats \r\n as one newline character.
        let lines = String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        guard let header = lines.first?.split(separator: "\t").map(String.init),
              let textColumn = header.firstIndex(where: { $0 == "sentence" || $0 == "text" }),
              let labelColumn = header.firstIndex(of: "label")
        else { throw DatasetError.malformed(file: url.path, line: 1, reason: "header must name a sentence (or text) and a label column") }
        var rows: [LabeledText] = []
        for (index, line) in lines.enumerated().dropFirst() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count > max(textColumn, labelColumn) else {
                throw DatasetError.malformed(file: url.path, line: index + 1, reason: "expected \(header.count) tab-separated fields")
            }
            guard let label = Int(fields[labelColumn].trimmingCharacters(in: .whitespaces)), (0..<classes).contains(label) else {
                throw DatasetError.malformed(file: url.path, line: index + 1, reason: "label '\(fields[labelColumn])' is not in 0..<\(classes)")
            }
            rows.append(LabeledText(text: fields[textColumn].trimmingCharacters(in: .whitespaces), label: label))
        }
        guard !rows.isEmpty else { throw DatasetError.empty(url.path) }
        return rows
    }
}
