// The six few-shot tasks shipped in data/fewshot, as presets: RLPrompt's label words (data/fewshot/README.md), label
// names and a manual prompt for the zero-shot baseline. A preset only fills what a task.json and the flags leave out.

public enum TaskCatalog {
    public static let presets: [String: TaskDescription] = [
        "sst-2": TaskDescription(description: "SST-2 movie-review sentiment", labels: ["negative", "positive"],
                                 labelWords: [" terrible", " great"], manualPrompt: "Overall, the movie was"),
        "mr": TaskDescription(description: "MR movie-review sentiment", labels: ["negative", "positive"],
                              labelWords: [" terrible", " great"], manualPrompt: "Overall, the movie was"),
        "subj": TaskDescription(description: "Subj: subjective or objective sentence", labels: ["subjective", "objective"],
                                labelWords: [" subjective", " objective"], manualPrompt: "This sentence is"),
        "trec": TaskDescription(description: "TREC question type",
                                labels: ["description", "entity", "abbreviation", "human", "location", "number"],
                                labelWords: [" Description", " Entity", " Expression", " Human", " Location", " Number"],
                                manualPrompt: "The question asks about a"),
        "agnews": TaskDescription(description: "AG News topic", labels: ["world", "sports", "business", "tech"],
                                  labelWords: ["World", "Sports", "Business", "Tech"], manualPrompt: "Topic:"),
        "sst-5": TaskDescription(description: "SST-5 movie-review sentiment, five grades",
                                 labels: ["very negative", "negative", "neutral", "positive", "very positive"],
                                 labelWords: [" terrible", " bad", " okay", " good", " great"], manualPrompt: "Overall, the movie was"),
    ]

    public static func preset(named name: String) -> TaskDescription? { presets[name.lowercased()] }
}
