// `legible tune`: train a prompt on a few-shot task, then measure it. Progress on stderr; results in --out.
import ArgumentParser
import Dispatch
import Foundation
import Models
import Reports
import Runs
import Sweeps
import Tasks
import Tuning

struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tune a soft prompt (soft), a hard prompt by projected gradients (pez), by reinforcement learning (rlprompt) or by gradient-guided discrete search (gcg) on a few-shot task.",
        discussion: """
        Writes OUT/prompt.safetensors, OUT/log.jsonl (one line per step), OUT/report.json and resumable state.
        Ctrl-C stops after the current step; run again with --resume to continue.
        soft, pez: loss = task cross-entropy + λ·scrutability (NLL of the projected prompt) + γ·‖P − P′‖² + κ·KL(soft ‖ projected);
        log.jsonl records each term's gradient norm (termGradientNorms).
        rlprompt: reward = 5·z(gap reward) − λ·z(log-perplexity of the prompt) − γ·z(accuracy lost when its text is tokenized again),
        each z-scored across the step's samples; the policy (frozen --policy-model + MLP) learns by soft Q-learning. Use the "{sentence} {prompt}" template
        (--template rlprompt) so each sentence's key/value cache is computed once and reused for every sampled prompt.
        gcg: each step proposes token swaps from the one-hot gradient (with λ > 0, half of each position's tokens also
        by their exact NLL there), scores --candidates prompts, as a person would type them, by task cross-entropy +
        λ·(log-perplexity + repetition penalty), all in nats, and keeps the best when it lowers that objective;
        accepted changes go to OUT/edits.jsonl. λ 0.1–0.3 is the useful range on SST-2 (see the README).
        Defaults differing by method: rlprompt uses --prompt-length 5, --lr 5e-5, --clip 5, --weight-decay 0;
        gcg --prompt-length 5 (or the length of --initialization text:…) and --steps 30. rlprompt and gcg use the
        "{sentence} {prompt}" template.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var taskOptions: TaskOptions
    @OptionGroup var zeroShotCacheOptions: ZeroShotCacheOptions
    @Option(help: "soft: continuous prompt (Lester et al.); pez: hard prompt by projected gradients (Wen et al.); rlprompt: policy search (Deng et al.); gcg: gradient-guided token search with exact fluency (AutoPrompt/GCG/ARCA).")
    var method: TuningMethod = .pez
    @Option(name: .customLong("prompt-length"), help: "Prompt tokens (default 10; rlprompt and gcg 5, or the length of an --initialization text).") var promptLength: Int?
    @Option(help: "Optimization steps (default 150; gcg 30, about 4 minutes of tuning on Gemma 3 270M with 2 cores).") var steps: Int?
    @Option(help: "Training examples per step (rlprompt: examples each sampled prompt is rewarded on).") var batch = 16
    @Option(help: "AdamW learning rate (default 1, in input-embedding units: Gemma 3's coordinates have std ≈ 1, scale it down for models with smaller embeddings; rlprompt: 5e-5 for the policy MLP, as RLPrompt: on SST-2 it needed about 500 steps, 1e-3 learned within 100; see the README).") var lr: Float?
    @Option(name: .customLong("weight-decay"), help: "AdamW decoupled weight decay (default 0.01; rlprompt 0).") var weightDecay: Float?
    @Option(help: "Clip the gradient to this L2 norm, 0 for none (default 1; rlprompt 5).") var clip: Float?
    @Option(help: "λ, weight of the scrutability (fluency) term.") var scrutability: Float = 0
    @Option(help: "γ, weight of the squared distance to the projection.") var faithfulness: Float = 0
    @Option(name: .customLong("faithfulness-kl"), help: "κ, weight of KL(soft ‖ projected) over the labels.") var faithfulnessKL: Float = 0
    @Option(help: "Projected Langevin noise (FluentPrompt): temperature β at the first step, decaying geometrically to 1e-4 at the last; noise √(2·lr·β) per coordinate is added after each step, before the next projection. 0 disables it.") var langevin: Float = 0
    @Option(name: .customLong("fluency-gradient"), help: ArgumentHelp("How the scrutability gradient reaches the prompt. full: through the context and, as MuCoLa's continuous targets, through each prompt vector standing in for its own token's output row, pulling it toward what the model expects at its position (the last one included); the value is unchanged for pez. context: through the context only, with the projected ids as fixed targets, so the last prompt vector gets no fluency gradient (the earlier form, for comparison). Default full; context on a model whose head is untied (Qwen2), where prompt vectors have no output rows to stand in for.", valueName: "full|context")) var fluencyGradient: FluencyGradient?
    @Option(help: "Random seed (initialization, batches, noise).") var seed: UInt64 = 0
    @Option(name: .customLong("eval-every"), help: "Dev accuracy every N steps.") var evalEvery = 10
    @Option(help: "Projection metric: cosine, l2 or dot.") var metric: ProjectionMetric = .cosine
    @Option(help: ArgumentHelp("Initial prompt: random, classwords, manual (the task's manual prompt, at its length), or text:<words>.", valueName: "init")) var initialization = "random"
    @Flag(name: .customLong("exclude-non-ascii"), help: "Never project onto non-ASCII tokens.") var excludeNonASCII = false
    @Flag(name: .customLong("exclude-non-words"), help: "Never project onto tokens that are not letters.") var excludeNonWords = false
    @Flag(name: .customLong("exclude-unstable"), help: "Never project onto tokens that do not survive detokenize → retokenize.") var excludeUnstable = false
    @Option(name: .customLong("policy-model"), help: ArgumentHelp("rlprompt: the frozen model under the policy's MLP (default: the task model); it must share the task model's tokenizer.", valueName: "path")) var policyModel: String?
    @Option(name: .customLong("samples-per-step"), help: "rlprompt: prompts sampled and rewarded per step.") var samplesPerStep = 16
    @Option(name: .customLong("sample-top-k"), help: "rlprompt: sample training prompts from the policy's k most likely tokens.") var sampleTopK = 256
    @Option(name: .customLong("fluent-top-k"), help: "rlprompt: only let the policy choose among the frozen model's K most likely next tokens (readability).") var fluentTopK: Int?
    @Option(name: .customLong("policy-hidden"), help: "rlprompt: hidden width of the policy MLP.") var policyHidden = 2048
    @Option(help: "gcg: candidate prompts scored exactly per step (default 64).") var candidates: Int?
    @Option(name: .customLong("candidates-per-position"), help: "gcg: tokens per position, by the one-hot gradient, that candidates draw from (default 64).") var candidatesPerPosition: Int?
    @Option(name: .customLong("edit-budget"), help: ArgumentHelp("gcg: positions a candidate changes, decayed by a cosine from MAX at the first step to MIN at the last (GPO); 1:1 is plain GCG.", valueName: "MAX:MIN")) var editBudget: String?
    @Option(help: "gcg: GPO's trajectory retrieval, the K best prompts so far lend their tokens to the candidate pools (default 0, off).") var trajectory: Int?
    @Option(name: .customLong("repetition-penalty"), help: "gcg: ρ, nats per token that repeats an earlier one, added to the log-perplexity (default 4).") var repetitionPenalty: Float?
    @Option(help: "The prompt handed out: dev-accuracy (the best dev accuracy) or dev-loss (the lowest dev cross-entropy + λ·log-perplexity; smoother on small dev sets).") var select: PromptSelection = .devAccuracy
    @Option(help: "Run directory.") var out: String
    @Flag(help: "Continue the run in --out where it stopped.") var resume = false

    func validate() throws {
        if let promptLength, promptLength < 1 { throw ValidationError("--prompt-length must be at least 1") }
        if let steps, steps < 0 { throw ValidationError("--steps cannot be negative") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive") }
        if samplesPerStep < 2 { throw ValidationError("--samples-per-step must be at least 2: rewards are z-scored across the samples") }
        if sampleTopK < 1 || (fluentTopK ?? 1) < 1 || policyHidden < 1 { throw ValidationError("--sample-top-k, --fluent-top-k and --policy-hidden must be at least 1") }
        if method != .rlprompt, policyModel != nil || fluentTopK != nil {
            throw ValidationError("--policy-model and --fluent-top-k apply to --method rlprompt only")
        }
        if method == .rlprompt, langevin > 0 || faithfulnessKL > 0 || initialization != "random" || fluencyGradient != nil {
            throw ValidationError("--langevin, --faithfulness-kl, --fluency-gradient and --initialization apply to --method soft and pez; rlprompt's policy writes its prompts from the start token")
        }
        let searchOptions: [Any?] = [candidates, candidatesPerPosition, editBudget, trajectory, repetitionPenalty]
        if method != .gcg, searchOptions.contains(where: { $0 != nil }) {
            throw ValidationError("--candidates, --candidates-per-position, --edit-budget, --trajectory and --repetition-penalty apply to --method gcg only")
        }
        if method == .gcg, lr != nil || weightDecay != nil || clip != nil || langevin > 0 || faithfulness > 0 || faithfulnessKL > 0 || fluencyGradient != nil {
            throw ValidationError("--lr, --weight-decay, --clip, --langevin, --faithfulness, --faithfulness-kl and --fluency-gradient do not apply to --method gcg: it swaps tokens, with no continuous prompt or optimizer")
        }
        if let candidates, candidates < 1 { throw ValidationError("--candidates must be at least 1") }
        if let candidatesPerPosition, candidatesPerPosition < 1 { throw ValidationError("--candidates-per-position must be at least 1") }
        if let trajectory, trajectory < 0 { throw ValidationError("--trajectory cannot be negative") }
        if let repetitionPenalty, !(repetitionPenalty >= 0 && repetitionPenalty.isFinite) { throw ValidationError("--repetition-penalty must be a finite number ≥ 0") }
        if let editBudget {
            guard let budget = EditBudget(parsing: editBudget), budget.minimum >= 1, budget.maximum >= budget.minimum else {
                throw ValidationError("--edit-budget must be MAX:MIN with 1 ≤ MIN ≤ MAX, e.g. 3:1")
            }
        }
        if let policyModel, !FileManager.default.fileExists(atPath: policyModel) { throw ValidationError("no policy model at '\(policyModel)'") }
        if out.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--out needs a folder name") }
        if scrutability < 0 || faithfulness < 0 || faithfulnessKL < 0 { throw ValidationError("loss weights cannot be negative") }
        _ = try parseInitialization()
        do { try tuningConfiguration.validate() } catch { throw ValidationError("\(error)") }
    }

    func parseInitialization() throws -> PromptInitialization {
        switch initialization {
        case "random": return .randomTokens
        case "classwords": return .classWords
        case "manual":
            if promptLength != nil { throw ValidationError("--initialization manual starts from the task's manual prompt and takes its length: drop --prompt-length") }
            return .manualPrompt
        case let value where value.hasPrefix("text:"):
            let text = String(value.dropFirst(5))
            guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--initialization text: needs the prompt's words, e.g. text:\"Overall, the movie was\"") }
            return .text(text)
        default: throw ValidationError("--initialization must be random, classwords, manual or text:<words>")
        }
    }

    var tuningConfiguration: TuningConfiguration {
        var c = TuningConfiguration(method: method)
        if let steps { c.steps = steps }
        c.batchSize = batch
        if let promptLength { c.promptLength = promptLength }
        if let lr { c.learningRate = lr }
        if let weightDecay { c.weightDecay = weightDecay }
        if let clip { c.maxGradientNorm = clip }
        c.policy.model = policyModel; c.policy.samplesPerStep = samplesPerStep; c.policy.sampleTopK = sampleTopK
        c.policy.fluentTopK = fluentTopK; c.policy.hiddenWidth = policyHidden
        c.scrutability = scrutability; c.faithfulness = faithfulness; c.faithfulnessKL = faithfulnessKL
        c.langevinTemperature = langevin; c.fluencyGradient = fluencyGradient ?? .full; c.seed = seed; c.evaluateEvery = evalEvery; c.metric = metric
        c.filter = TokenFilter(excludeNonASCII: excludeNonASCII, excludeNonWords: excludeNonWords, excludeUnstable: excludeUnstable)
        c.initialization = (try? parseInitialization()) ?? .randomTokens
        if let candidates { c.search.candidates = candidates }
        if let candidatesPerPosition { c.search.candidatesPerPosition = candidatesPerPosition }
        if let editBudget, let budget = EditBudget(parsing: editBudget) { c.search.editBudget = budget }
        if let trajectory { c.search.trajectory = trajectory }
        if let repetitionPenalty { c.search.repetitionPenalty = repetitionPenalty }
        c.selection = select
        return c
    }

    func run() throws {
        let console = Console()
        console.status("loading \(modelOptions.model)")
        let loaded = try LoadedModel.load(modelOptions)
        let tokenizer = try loaded.requireTokenizer()
        let task = try taskOptions.load(tokenizer: tokenizer, method: method)
        var policy: (any CausalLM)?
        if let policyModel {
            console.status("loading the policy model \(policyModel)")
            policy = try LoadedModel.load(ModelOptions.parse(["--model", policyModel])).model
        }
        var configuration = tuningConfiguration
        // A text initialization sets the prompt's length unless one is given.
        if promptLength == nil, case .text(let text) = configuration.initialization {
            configuration.promptLength = configuration.initialTokens(of: text, promptFollowsText: task.template.promptFollowsText, tokenizer: tokenizer).count
        }
        // The full fluency gradient lets prompt vectors stand in for output rows, which only a tied head has.
        if fluencyGradient == nil {
            let fitted = configuration.fittingFluencyGradient(to: loaded.model)
            if fitted.fluencyGradient != configuration.fluencyGradient, scrutability > 0 {
                console.line("--fluency-gradient context: this model's head is untied, so the full form does not apply")
            }
            configuration = fitted
        }
        let modelSHA256 = try loaded.weightsSHA256()
        var job = TuningJob(model: loaded.model, tokenizer: tokenizer, modelName: loaded.name, modelSHA256: modelSHA256,
                            task: task, configuration: configuration, dataRoot: taskOptions.dataRoot, testLimit: taskOptions.testLimit,
                            policyModel: policy)
        job.testRows = taskOptions.testRows
        job.zeroShotCache = zeroShotCacheOptions.cache(modelSHA256: modelSHA256)
        console.line("\(method.rawValue) on \(task.definition.name) \(task.split): \(task.train.count) train, \(task.dev.count) dev, \(task.test.count) test examples; \(loaded.model.summary)")
        let directory = RunDirectory(URL(fileURLWithPath: out))
        let interrupt = InterruptFlag()
        let report: RunReport
        do {
            report = try job.run(in: directory, resume: resume) { event in
                switch event {
                case .resumed(let step): console.line("resuming \(out) at step \(step) of \(configuration.steps)")
                case .step(let record): console.progress(record, total: configuration.steps)
                case .evaluating(let label): console.status("evaluating on the test set: \(label)")
                }
                if interrupt.isSet { throw InterruptFlag.Interrupted() }
            }
        } catch is InterruptFlag.Interrupted {
            console.line("")
            console.line("stopped; run again with --resume to continue")
            throw interrupt.exitCode
        }
        console.status("")
        print(ReportText.summary(report))
        console.line("wrote \(directory.prompt.path), \(directory.report.path)")
    }
}

extension TuningMethod: ExpressibleByArgument {}
extension ProjectionMetric: ExpressibleByArgument {}
extension PromptSelection: ExpressibleByArgument {}
extension FluencyGradient: ExpressibleByArgument {}

/// Set by Ctrl-C (SIGINT) or a polite stop (SIGTERM: `kill`, Slurm's scancel and time limit, `docker stop`); the
/// tuning loop checks it between steps, so the run saves its state and stops instead of dying mid-step.
final class InterruptFlag: @unchecked Sendable {
    struct Interrupted: Error {}
    private let lock = NSLock()
    private var received: Int32?
    private let sources: [DispatchSourceSignal]

    init() {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            return DispatchSource.makeSignalSource(signal: number, queue: .global())
        }
        for source in sources {
            let number = Int32(source.handle)
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock(); if self.received == nil { self.received = number }; self.lock.unlock()
                let name = number == SIGINT ? "interrupt" : "terminate"
                FileHandle.standardError.write(Data("\n\(name): finishing the current step…\n".utf8))
            }
            source.resume()
        }
    }

    /// The shell's convention for a process stopped by a signal: 128 + its number (130 for Ctrl-C, 143 for SIGTERM).
    var exitCode: ExitCode { ExitCode(128 + (signalNumber ?? SIGINT)) }
    private var signalNumber: Int32? { lock.lock(); defer { lock.unlock() }; return received }

    var isSet: Bool { signalNumber != nil }
}
