// What a task is besides its data: the label names in class order, the words that stand for them, a template,
// the manual prompt of the zero-shot baseline and a description. It comes from three places, first given wins:
// command-line flags, the data folder's `<task>/task.json`, and the built-in preset of a known task.
import Foundation

public struct TaskDescription: Codable, Sendable, Equatable {
    public var description: String?
    /// Label names in class order, as the data files write them (integers from 0 are always accepted too).
    public var labels: [String]?
    /// One word per class, in class order, predicted right after the template; usually with a leading space.
    public var labelWords: [String]?
    /// A template with {prompt} and {sentence}, or a name: pez, rlprompt.
    public var template: String?
    /// A plain instruction a person might write, for the "manual prompt" zero-shot baseline.
    public var manualPrompt: String?
    public var textColumn: String?
    public var labelColumn: String?

    public init(description: String? = nil, labels: [String]? = nil, labelWords: [String]? = nil, template: String? = nil,
                manualPrompt: String? = nil, textColumn: String? = nil, labelColumn: String? = nil) {
        self.description = description; self.labels = labels; self.labelWords = labelWords; self.template = template
        self.manualPrompt = manualPrompt; self.textColumn = textColumn; self.labelColumn = labelColumn
    }

    enum CodingKeys: String, CodingKey {
        case description, labels, template
        case labelWords = "label_words", manualPrompt = "manual_prompt", textColumn = "text_column", labelColumn = "label_column"
    }

    /// This description with its gaps filled from `other`.
    public func filling(from other: TaskDescription?) -> TaskDescription {
        guard let other else { return self }
        return TaskDescription(description: description ?? other.description, labels: labels ?? other.labels,
                               labelWords: labelWords ?? other.labelWords, template: template ?? other.template,
                               manualPrompt: manualPrompt ?? other.manualPrompt, textColumn: textColumn ?? other.textColumn,
                               labelColumn: labelColumn ?? other.labelColumn)
    }

    public var columns: DataColumns { DataColumns(text: textColumn, label: labelColumn) }

    /// `<task folder>/task.json`, or nil when there is none.
    public static func read(taskFolder: URL) throws -> TaskDescription? {
        let url = taskFolder.appendingPathComponent("task.json")
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        do {
            let description = try JSONDecoder().decode(TaskDescription.self, from: data)
            try description.validate(file: url.path)
            return description
        } catch let error as DatasetError {
            throw error
        } catch {
            throw DatasetError.malformed(file: url.path, line: 0, reason: "not a task description: \(error)")
        }
    }

    func validate(file: String) throws {
        if let labels, Set(labels).count != labels.count || labels.contains(where: \.isEmpty) {
            throw DatasetError.malformed(file: file, line: 0, reason: "labels must be distinct and not empty")
        }
        if let labels, let labelWords, labels.count != labelWords.count {
            throw DatasetError.malformed(file: file, line: 0, reason: "\(labels.count) labels but \(labelWords.count) label words")
        }
        if let labelWords, labelWords.contains(where: \.isEmpty) {
            throw DatasetError.malformed(file: file, line: 0, reason: "a label word is empty")
        }
    }
}

/// A task resolved against its data: every class named, a word for each, and what else was given.
public struct TaskDefinition: Sendable, Equatable {
    public var name: String
    public var labels: [String]
    public var labelWords: [String]
    public var manualPrompt: String?
    public var description: String?
    /// The template the task asks for, if any (flags and the tuning method decide otherwise).
    public var template: String?
    public var columns: DataColumns

    public var classes: Int { labelWords.count }
}
