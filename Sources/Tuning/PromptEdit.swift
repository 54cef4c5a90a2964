// One accepted change of a discrete prompt search, as a line of OUT/edits.jsonl: what changed where, and the
// objective's terms on the step's training batch before and after. A later analysis sorts edits into
// families (label-word-like, function word, punctuation, …) and asks which helped.

public struct PromptEdit: Codable, Sendable, Equatable {
    public struct Token: Codable, Sendable, Equatable {
        public var id: Int32
        public var text: String
    }

    public var step: Int
    public var position: Int
    /// Positions changed together in this step's accepted candidate (the edit budget's n_t at most).
    public var editSize: Int
    public var old: Token
    public var new: Token
    public var before: ObjectiveTerms
    public var after: ObjectiveTerms
    /// Dev accuracy of the prompt after the edit, when the step was evaluated.
    public var devAccuracy: Double?

    enum CodingKeys: String, CodingKey {
        case step, position, old, new, before, after
        case editSize = "edit_size", devAccuracy = "dev_accuracy"
    }
}
