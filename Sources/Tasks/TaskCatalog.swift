// The few-shot tasks Legible knows, with RLPrompt's verbalizers (data/fewshot/README.md) and a manual prompt
// for the zero-shot baseline.

public struct TaskDefinition: Sendable, Equatable {
    public var name: String
    public var classes: Int
    public var verbalizers: [String]
    /// A plain instruction a person might write, used for the "manual prompt" zero-shot baseline.
    public var manualPrompt: String
}

public enum TaskCatalog {
    public static let tasks: [TaskDefinition] = [
        TaskDefinition(name: "sst-2", classes: 2, verbalizers: [" terrible", " great"], manualPrompt: "Overall, the movie was"),
        TaskDefinition(name: "mr", classes: 2, verbalizers: [" terrible", " great"], manualPrompt: "Overall, the movie was"),
        TaskDefinition(name: "subj", classes: 2, verbalizers: [" subjective", " objective"], manualPrompt: "This sentence is"),
        TaskDefinition(name: "trec", classes: 6,
                       verbalizers: [" Description", " Entity", " Expression", " Human", " Location", " Number"],
                       manualPrompt: "The question asks about a"),
        TaskDefinition(name: "agnews", classes: 4, verbalizers: ["World", "Sports", "Business", "Tech"], manualPrompt: "Topic:"),
        TaskDefinition(name: "sst-5", classes: 5, verbalizers: [" terrible", " bad", " okay", " good", " great"],
                       manualPrompt: "Overall, the movie was"),
    ]

    public static func task(named name: String) throws -> TaskDefinition {
        guard let task = tasks.first(where: { $0.name == name.lowercased() }) else {
            throw DatasetError.unknownTask(name, known: tasks.map(\.name))
        }
        return task
    }
}
