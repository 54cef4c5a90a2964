// `legible export` and `legible import`: a tuned prompt to and from the tools people deploy with (Hugging Face PEFT).
import ArgumentParser
import Foundation
import Runs
import Tuning

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a tuned prompt as a Hugging Face PEFT prompt-tuning adapter.",
        discussion: """
        Writes OUT/adapter_config.json (peft_type PROMPT_TUNING, task_type CAUSAL_LM) and \
        OUT/adapter_model.safetensors (prompt_embeddings: the prompt's vectors, in the space of the model's scaled \
        input embeddings, where PEFT concatenates them). Load it with \
        `PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(BASE), OUT)`. PEFT puts the virtual tokens \
        before everything, <bos> included, where a Legible template puts them after <bos>: see the README, \
        "Taking a prompt to PEFT", for what that does to accuracy.
        """)

    @Option(help: "A prompt.safetensors written by `legible tune` (or `legible import`).") var prompt: String
    @Option(help: "The format to write: peft.") var format: String = "peft"
    @Option(help: "The adapter folder to write (made if missing).") var out: String
    @Option(name: .customLong("base-model"), help: ArgumentHelp(
        "base_model_name_or_path for PEFT: the Hub id or folder of the model in Hugging Face format (default: the model the prompt file names).",
        valueName: "name"))
    var baseModel: String?

    func validate() throws {
        if format != "peft" { throw ValidationError("--format: only peft is supported") }
    }

    func run() throws {
        let file: PromptFile
        do { file = try PromptFile.read(from: URL(fileURLWithPath: prompt)) } catch let error as PromptFileError { throw CLIError("\(error)") }
        if !["soft", "pez"].contains(file.metadata.method) {
            // gcg and rlprompt prompts are token ids: their vectors are those tokens' embeddings, which is still a
            // valid adapter, but typing the text is the faithful way to take them elsewhere.
            FileHandle.standardError.write(Data("note: a \(file.metadata.method) prompt is its tokens, \(String(reflecting: file.metadata.text)); the adapter holds their embeddings\n".utf8))
        }
        let adapter = PEFTAdapter(prompt: file.prompt, baseModel: baseModel ?? file.metadata.model)
        try adapter.write(to: URL(fileURLWithPath: out))
        print("wrote a PEFT prompt-tuning adapter to \(out): \(file.prompt.length) virtual tokens × \(file.prompt.width), base model \(String(reflecting: adapter.baseModel))")
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read a Hugging Face PEFT prompt-tuning adapter into a Legible prompt file.",
        discussion: """
        The adapter's prompt_embeddings become the prompt's vectors unchanged (both live in the model's scaled \
        input-embedding space); the file records them as a soft prompt on --model, with the task, split, template \
        and label words the task flags give (the adapter knows none of them), and the nearest token of each vector \
        (cosine) as its text. `legible eval --prompt FILE` then measures it with a Legible template, the prompt \
        after <bos>.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var taskOptions: TaskOptions
    @Option(help: "The adapter folder (adapter_config.json and adapter_model.safetensors).") var peft: String
    @Option(help: "The prompt file to write.") var out: String

    func run() throws {
        let adapter: PEFTAdapter
        do { adapter = try PEFTAdapter.read(from: URL(fileURLWithPath: peft)) } catch let error as PEFTAdapterError { throw CLIError("\(error)") }
        let loaded = try LoadedModel.load(modelOptions)
        let tokenizer = try loaded.requireTokenizer()
        guard adapter.prompt.width == loaded.model.width else {
            throw CLIError("\(peft) holds vectors of width \(adapter.prompt.width); \(loaded.name) has width \(loaded.model.width): the adapter was made for another model")
        }
        let task = try taskOptions.load(tokenizer: tokenizer, method: .soft)
        let projector = VocabularyProjector(model: loaded.model, metric: .cosine,
                                            allowed: [Bool](repeating: true, count: loaded.model.vocabularySize))
        let ids = projector.neighbours(adapter.prompt, count: 1).map { $0[0].id }
        let metadata = PromptMetadata(
            model: loaded.name, modelSHA256: try loaded.weightsSHA256(), method: "soft", task: task.definition.name,
            split: task.split, template: task.template.text, verbalizers: task.verbalizer.words, ids: ids,
            text: tokenizer.decode(ids), configuration: nil, data: taskOptions.dataRoot, taskDescription: task.resolvedDescription)
        try PromptFile(prompt: adapter.prompt, metadata: metadata).write(to: URL(fileURLWithPath: out))
        print("wrote \(out): \(adapter.prompt.length) soft tokens from \(peft) (base model \(String(reflecting: adapter.baseModel))), for \(task.definition.name) \(task.split) with template \(String(reflecting: task.template.text)); nearest tokens \(String(reflecting: metadata.text))")
    }
}
