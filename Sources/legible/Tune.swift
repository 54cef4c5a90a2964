// `legible tune`: train a prompt on a few-shot task, then measure it. Progress on stderr; results in --out.
import ArgumentParser
import Dispatch
import Evaluation
import Foundation
import Models
import Tuning

struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tune a soft prompt (soft), a readable hard prompt (pez) or a discrete prompt by reinforcement learning (rlprompt) on a few-shot task.",
        discussion: """
        Writes OUT/prompt.safetensors, OUT/log.jsonl (one line per step), OUT/report.json and resumable state.
        Ctrl-C stops after the current step; run again with --resume to continue.
        soft, pez: loss = task cross-entropy + λ·scrutability (NLL of the projected prompt) + γ·‖P − P′‖² + κ·KL(soft ‖ projected).
        rlprompt: reward = 5·z(gap reward) − λ·z(log-perplexity of the prompt) − γ·z(accuracy lost when its text is tokenized again),
        each z-scored across the step's samples; the policy (frozen --policy-model + MLP) learns by soft Q-learning. Use the "{sentence} {prompt}" template
        (--template rlprompt) so each sentence's key/value cache is computed once and reused for every sampled prompt.
        Defaults differing by method: rlprompt uses --prompt-length 5, --lr 5e-5, --clip 5, --weight-decay 0.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var taskOptions: TaskOptions
    @Option(help: "soft: continuous prompt (Lester et al.); pez: hard prompt by projected gradients (Wen et al.); rlprompt: policy search (Deng et al.).")
    var method: TuningMethod = .pez
    @Option(name: .customLong("prompt-length"), help: "Prompt tokens (default 10; rlprompt 5).") var promptLength: Int?
    @Option(help: "Optimization steps.") var steps = 150
    @Option(help: "Training examples per step (rlprompt: examples each sampled prompt is rewarded on).") var batch = 16
    @Option(help: "AdamW learning rate (default 1, in input-embedding units: Gemma 3's coordinates have std ≈ 1, scale it down for models with smaller embeddings; rlprompt: 5e-5 for the policy MLP, as RLPrompt: on SST-2 it needed about 500 steps, 1e-3 learned within 100; see the README).") var lr: Float?
    @Option(name: .customLong("weight-decay"), help: "AdamW decoupled weight decay (default 0.01; rlprompt 0).") var weightDecay: Float?
    @Option(help: "Clip the gradient to this L2 norm, 0 for none (default 1; rlprompt 5).") var clip: Float?
    @Option(help: "λ, weight of the scrutability (fluency) term.") var scrutability: Float = 0
    @Option(help: "γ, weight of the squared distance to the projection.") var faithfulness: Float = 0
    @Option(name: .customLong("faithfulness-kl"), help: "κ, weight of KL(soft ‖ projected) over the labels.") var faithfulnessKL: Float = 0
    @Option(help: "Projected Langevin noise temperature (FluentPrompt); 0 disables it.") var langevin: Float = 0
    @Option(help: "Random seed (initialization, batches, noise).") var seed: UInt64 = 0
    @Option(name: .customLong("eval-every"), help: "Dev accuracy every N steps.") var evalEvery = 10
    @Option(help: "Projection metric: cosine, l2 or dot.") var metric: ProjectionMetric = .cosine
    @Option(help: ArgumentHelp("Initial prompt: random, classwords, or text:<words>.", valueName: "init")) var initialization = "random"
    @Flag(name: .customLong("exclude-non-ascii"), help: "Never project onto non-ASCII tokens.") var excludeNonASCII = false
    @Flag(name: .customLong("exclude-non-words"), help: "Never project onto tokens that are not letters.") var excludeNonWords = false
    @Flag(name: .customLong("exclude-unstable"), help: "Never project onto tokens that do not survive detokenize → retokenize.") var excludeUnstable = false
    @Option(name: .customLong("policy-model"), help: ArgumentHelp("rlprompt: the frozen model under the policy's MLP (default: the task model); it must share the task model's tokenizer.", valueName: "path")) var policyModel: String?
    @Option(name: .customLong("samples-per-step"), help: "rlprompt: prompts sampled and rewarded per step.") var samplesPerStep = 16
    @Option(name: .customLong("sample-top-k"), help: "rlprompt: sample training prompts from the policy's k most likely tokens.") var sampleTopK = 256
    @Option(name: .customLong("fluent-top-k"), help: "rlprompt: only let the policy choose among the frozen model's K most likely next tokens (readability).") var fluentTopK: Int?
    @Option(name: .customLong("policy-hidden"), help: "rlprompt: hidden width of the policy MLP.") var policyHidden = 2048
    @Option(help: "Run directory.") var out: String
    @Flag(help: "Continue the run in --out where it stopped.") var resume = false

    func validate() throws {
        if let promptLength, promptLength < 1 { throw ValidationError("--prompt-length must be at least 1") }
        if steps < 0 { throw ValidationError("--steps cannot be negative") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive") }
        if samplesPerStep < 2 { throw ValidationError("--samples-per-step must be at least 2: rewards are z-scored across the samples") }
        if sampleTopK < 1 || (fluentTopK ?? 1) < 1 || policyHidden < 1 { throw ValidationError("--sample-top-k, --fluent-top-k and --policy-hidden must be at least 1") }
        if method != .rlprompt, policyModel != nil || fluentTopK != nil {
            throw ValidationError("--policy-model and --fluent-top-k apply to --method rlprompt only")
        }
        if method == .rlprompt, langevin > 0 || faithfulnessKL > 0 || initialization != "random" {
            throw ValidationError("--langevin, --faithfulness-kl and --initialization apply to --method soft and pez; rlprompt's policy writes its prompts from the start token")
        }
        if let policyModel, !FileManager.default.fileExists(atPath: policyModel) { throw ValidationError("no policy model at '\(policyModel)'") }
        if scrutability < 0 || faithfulness < 0 || faithfulnessKL < 0 { throw ValidationError("loss weights cannot be negative") }
        _ = try parseInitialization()
    }

    func parseInitialization() throws -> PromptInitialization {
        switch initialization {
        case "random": return .randomTokens
        case "classwords": return .classWords
        case let value where value.hasPrefix("text:"): return .text(String(value.dropFirst(5)))
        default: throw ValidationError("--initialization must be random, classwords or text:<words>")
        }
    }

    var tuningConfiguration: TuningConfiguration {
        var c = TuningConfiguration(method: method)
        c.steps = steps; c.batchSize = batch
        if let promptLength { c.promptLength = promptLength }
        if let lr { c.learningRate = lr }
        if let weightDecay { c.weightDecay = weightDecay }
        if let clip { c.maxGradientNorm = clip }
        c.policy.model = policyModel; c.policy.samplesPerStep = samplesPerStep; c.policy.sampleTopK = sampleTopK
        c.policy.fluentTopK = fluentTopK; c.policy.hiddenWidth = policyHidden
        c.scrutability = scrutability; c.faithfulness = faithfulness; c.faithfulnessKL = faithfulnessKL
        c.langevinTemperature = langevin; c.seed = seed; c.evaluateEvery = evalEvery; c.metric = metric
        c.filter = TokenFilter(excludeNonASCII: excludeNonASCII, excludeNonWords: excludeNonWords, excludeUnstable: excludeUnstable)
        c.initialization = (try? parseInitialization()) ?? .randomTokens
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
        let job = TuningJob(model: loaded.model, tokenizer: tokenizer, modelName: loaded.name, modelSHA256: try loaded.weightsSHA256(),
                            task: task, configuration: tuningConfiguration, dataRoot: taskOptions.data, testLimit: taskOptions.testLimit,
                            policyModel: policy)
        console.line("\(method.rawValue) on \(task.definition.name) \(task.split): \(task.train.count) train, \(task.dev.count) dev, \(task.test.count) test examples; \(loaded.model.summary)")
        let directory = RunDirectory(URL(fileURLWithPath: out))
        let interrupt = InterruptFlag()
        let report: RunReport
        do {
            report = try job.run(in: directory, resume: resume) { event in
                switch event {
                case .resumed(let step): console.line("resuming \(out) at step \(step) of \(steps)")
                case .step(let record): console.progress(record, total: steps)
                case .evaluating(let label): console.status("evaluating on the test set: \(label)")
                }
                if interrupt.isSet { throw InterruptFlag.Interrupted() }
            }
        } catch is InterruptFlag.Interrupted {
            console.line("")
            console.line("stopped; run again with --resume to continue")
            throw ExitCode(130)
        }
        console.status("")
        print(ReportText.summary(report))
        console.line("wrote \(directory.prompt.path), \(directory.report.path)")
    }
}

extension TuningMethod: ExpressibleByArgument {}
extension ProjectionMetric: ExpressibleByArgument {}

/// Set by Ctrl-C (SIGINT); the tuning loop checks it between steps.
final class InterruptFlag: @unchecked Sendable {
    struct Interrupted: Error {}
    private let lock = NSLock()
    private var set = false
    private let source: DispatchSourceSignal

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [weak self] in
            guard let self else { return }
            self.lock.lock(); self.set = true; self.lock.unlock()
            FileHandle.standardError.write(Data("\ninterrupt: finishing the current step…\n".utf8))
        }
        source.resume()
    }

    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return set }
}
