// The edit-level analysis of a discrete search (after Gong & Wen's causal study of prompt optimizers' edits):
// every accepted token change in a run's edits.jsonl is sorted into one family by the token it brought in, and each
// family's edits are summarized — how many, how they moved the task loss and the log-perplexity, and how often the
// dev accuracy rose where one was measured. Observational: an edit's family is not randomized, so a family's numbers
// describe what the search chose, not what that kind of edit would do anywhere.
import Foundation
import Runs
import Tuning

/// A family, decided by the first rule in this order that the new token meets.
public enum EditFamily: String, Codable, Sendable, CaseIterable {
    /// The token is already elsewhere in the prompt.
    case repetition
    /// Nothing but whitespace, punctuation or symbols.
    case punctuation = "punctuation and whitespace"
    /// A letter outside the Latin script.
    case nonLatin = "non-Latin script"
    /// Its embedding's cosine to a label word's is at least `labelWordCosine`, or it is a label word.
    case labelWord = "label-word-like"
    /// One of `instructionWords`.
    case instruction = "instruction word"
    /// One of `functionWords`.
    case functionWord = "function word"
    /// Letters that do not start a word (no leading space): a piece of a longer word.
    case fragment = "word fragment"
    /// Anything else: a whole content word, digits, mixed tokens.
    case other

    public static let labelWordCosine = 0.5
    /// Words that tell a model what to do or what the text is, as people write them in prompts.
    public static let instructionWords: Set<String> = [
        "answer", "classify", "classification", "sentiment", "review", "label", "question", "topic", "category", "opinion",
        "rate", "rating", "summary", "summarize", "decide", "choose", "judge", "describe", "feeling", "verdict", "overall",
        "type", "kind", "text", "sentence", "movie", "film", "tone", "emotion", "subject",
    ]
    /// English function words: articles, pronouns, prepositions, conjunctions, auxiliaries.
    public static let functionWords: Set<String> = [
        "the", "a", "an", "of", "to", "in", "on", "at", "by", "for", "with", "from", "about", "as", "into", "than", "and",
        "or", "but", "if", "so", "because", "while", "is", "was", "are", "were", "be", "been", "am", "do", "does", "did",
        "have", "has", "had", "will", "would", "can", "could", "should", "may", "might", "must", "it", "its", "this",
        "that", "these", "those", "i", "me", "my", "you", "your", "he", "him", "his", "she", "her", "we", "us", "our",
        "they", "them", "their", "what", "which", "who", "whom", "how", "when", "where", "why", "there", "here", "not",
        "no", "all", "some", "any", "very", "just", "also", "then", "up", "out", "one",
    ]

    /// The family of a new token. `others`: the prompt's other tokens after the edit; `labelCosine`: the token's
    /// largest cosine to a label word (nil when no model was given: then only a label word itself counts).
    public static func of(_ token: PromptEdit.Token, others: [Int32], labelWords: [String], labelCosine: Double?) -> EditFamily {
        if others.contains(token.id) { return .repetition }
        let body = token.text.trimmingCharacters(in: .whitespacesAndNewlines)
        if body.unicodeScalars.allSatisfy({ !CharacterSet.letters.contains($0) && !CharacterSet.decimalDigits.contains($0) }) { return .punctuation }
        if body.unicodeScalars.contains(where: { CharacterSet.letters.contains($0) && !isLatin($0) }) { return .nonLatin }
        let word = body.lowercased()
        if labelWords.contains(where: { $0.trimmingCharacters(in: .whitespaces).lowercased() == word }) || (labelCosine ?? 0) >= labelWordCosine {
            return .labelWord
        }
        if instructionWords.contains(word) { return .instruction }
        if functionWords.contains(word) { return .functionWord }
        if !token.text.hasPrefix(" "), body.unicodeScalars.allSatisfy(CharacterSet.letters.contains) { return .fragment }
        return .other
    }

    /// Basic Latin and the Latin supplements and extensions (U+0000–U+024F, U+1E00–U+1EFF).
    static func isLatin(_ s: Unicode.Scalar) -> Bool { s.value <= 0x024F || (0x1E00...0x1EFF).contains(s.value) }
}

public struct EditFamilySummary: Codable, Sendable, Equatable {
    public var name: String
    public var count: Int
    /// Mean of after − before over the family's edits.
    public var meanDeltaTaskLoss: Double
    /// The same over the edits whose log-perplexity was measured: a run at λ = 0 does not compute it (records 0).
    public var meanDeltaLogPerplexity: Double?
    public var logPerplexityMeasured: Int
    /// Edits made at a step whose prompt was evaluated on dev, and the share of them whose dev accuracy beat the
    /// evaluation before (nil when none was).
    public var evaluated: Int
    public var raisedDevAccuracy: Double?
}

public struct EditAnalysis: Codable, Sendable, Equatable {
    public struct Group: Codable, Sendable, Equatable {
        public var task: String
        public var method: String
        public var edits: Int
        public var families: [EditFamilySummary]
    }

    public var runs: Int
    public var edits: Int
    /// Every edit read.
    public var families: [EditFamilySummary]
    /// The same per task and method, when the runs span more than one.
    public var groups: [Group]
}

/// One run's edits with what the analysis needs beside them.
public struct RunEdits: Sendable {
    public struct Edit: Sendable {
        public var edit: PromptEdit
        public var family: EditFamily
        /// Dev accuracy of the evaluation before this edit's step, when both it and the edit's own were measured.
        public var previousDevAccuracy: Double?
    }

    public var task: String
    public var method: String
    public var edits: [Edit]

    /// Reads a run folder's run.json, log.jsonl and edits.jsonl. `labelCosine(id, labelWords)` gives a token's
    /// largest cosine to the run's label words (nil: no model).
    public init(run folder: URL, labelCosine: (Int32, [String]) -> Double?) throws {
        let run = RunDirectory(folder)
        let settings = try JSONDecoder().decode(RunSettings.self, from: Data(contentsOf: run.settings))
        task = settings.task
        method = settings.configuration.method.rawValue
        struct LogLine: Decodable { var step: Int; var ids: [Int32]; var devAccuracy: Double? }
        let log = try Self.lines(of: run.log, as: LogLine.self)
        let idsAfter = Dictionary(log.map { ($0.step, $0.ids) }, uniquingKeysWith: { $1 })
        let evaluations = log.compactMap { line in line.devAccuracy.map { (step: line.step, accuracy: $0) } }
        edits = try Self.lines(of: run.edits, as: PromptEdit.self).map { edit in
            var others = idsAfter[edit.step] ?? []
            if edit.position < others.count { others.remove(at: edit.position) }
            let family = EditFamily.of(edit.new, others: others, labelWords: settings.verbalizers, labelCosine: labelCosine(edit.new.id, settings.verbalizers))
            let previous = edit.devAccuracy == nil ? nil : evaluations.last { $0.step < edit.step }?.accuracy
            return Edit(edit: edit, family: family, previousDevAccuracy: previous)
        }
    }

    static func lines<T: Decodable>(of file: URL, as type: T.Type) throws -> [T] {
        guard FileManager.default.fileExists(atPath: file.path) else { return [] }
        let decoder = JSONDecoder()
        return try String(decoding: Data(contentsOf: file), as: UTF8.self).split(separator: "\n").enumerated().map { index, line in
            do { return try decoder.decode(type, from: Data(line.utf8)) } catch {
                throw TuningError.invalidConfiguration("\(file.path) line \(index + 1) is not a \(type) record: \(error.localizedDescription)")
            }
        }
    }
}

extension EditAnalysis {
    public init(_ runs: [RunEdits]) {
        let all = runs.flatMap(\.edits)
        self.runs = runs.count
        edits = all.count
        families = Self.summaries(all)
        let keys = Set(runs.map { "\($0.task)\u{0}\($0.method)" })
        groups = keys.count < 2 ? [] : keys.sorted().map { key in
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            let edits = runs.filter { $0.task == parts[0] && $0.method == parts[1] }.flatMap(\.edits)
            return Group(task: parts[0], method: parts[1], edits: edits.count, families: Self.summaries(edits))
        }
    }

    /// One summary per family that has edits, in the families' rule order.
    static func summaries(_ edits: [RunEdits.Edit]) -> [EditFamilySummary] {
        EditFamily.allCases.compactMap { family in
            let members = edits.filter { $0.family == family }
            guard !members.isEmpty else { return nil }
            let n = Double(members.count)
            let evaluated = members.filter { $0.edit.devAccuracy != nil && $0.previousDevAccuracy != nil }
            // A prompt's log-perplexity is never exactly 0: both 0 means the run did not compute it.
            let measured = members.filter { $0.edit.before.logPerplexity != 0 || $0.edit.after.logPerplexity != 0 }
            return EditFamilySummary(
                name: family.rawValue, count: members.count,
                meanDeltaTaskLoss: members.reduce(0.0) { $0 + Double($1.edit.after.task - $1.edit.before.task) } / n,
                meanDeltaLogPerplexity: measured.isEmpty ? nil
                    : measured.reduce(0.0) { $0 + Double($1.edit.after.logPerplexity - $1.edit.before.logPerplexity) } / Double(measured.count),
                logPerplexityMeasured: measured.count,
                evaluated: evaluated.count,
                raisedDevAccuracy: evaluated.isEmpty ? nil
                    : Double(evaluated.filter { $0.edit.devAccuracy! > $0.previousDevAccuracy! }.count) / Double(evaluated.count))
        }
    }
}
