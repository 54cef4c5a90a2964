// A sweep's plan: one model and a grid of tuning settings (methods × λ × γ × tasks × splits × prompt lengths
// × seeds) expanded into numbered runs, each an ordinary `tune` run. Measures the interpretability–performance
// trade-off of Patel et al. 2025 ("Towards Interpretable Soft Prompts") as a grid.
import Foundation
import Kernels
import Runs
import Tasks
import Tuning

public enum SweepError: Error, CustomStringConvertible, Equatable {
    case unknownKey(String, known: [String])
    case invalidValue(key: String, reason: String)
    case unreadable(String, reason: String)
    case planDiffers(String, keys: [String])
    case noPlan(String)
    case invalidShard(String)
    case missingData([String])

    public var description: String {
        switch self {
        case .unknownKey(let key, let known):
            return "unknown key '\(key)' in the sweep configuration; known keys: \(known.joined(separator: ", "))"
        case .invalidValue(let key, let reason): return "sweep configuration, '\(key)': \(reason)"
        case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
        case .planDiffers(let path, let keys):
            return "\(path) already holds a plan made from a different configuration (\(keys.joined(separator: ", ")) differ); run ids would change, so re-planning is refused: choose another --out, or delete the sweep folder to start over"
        case .noPlan(let path): return "\(path) holds no sweep plan (plan.json); make one with `legible sweep plan CONFIG.json --out \(path)`"
        case .invalidShard(let text): return "shard '\(text)' must be i/n with 0 ≤ i < n, e.g. 0/4"
        case .missingData(let paths): return "the sweep's data is missing: \(paths.joined(separator: ", ")) not found (is \"data\" pointing at a data/fewshot folder?)"
        }
    }
}

/// The sweep configuration file. Every key but `model` is optional and defaults to `legible tune`'s default;
/// list keys also take a single value. Unknown keys are an error.
public struct SweepConfiguration: Codable, Equatable, Sendable {
    public var model: String
    public var methods: [TuningMethod] = [SweepConfiguration.tune.method]
    public var tasks: [String] = ["sst-2"]
    public var data = "data/fewshot"
    public var splits: [String] = ["16-100"]
    /// λ values (weight of the scrutability term).
    public var scrutability: [Float] = [0]
    /// γ values (weight of the squared distance to the projection).
    public var faithfulness: [Float] = [0]
    public var promptLengths: [Int] = [SweepConfiguration.tune.promptLength]
    public var seeds: [UInt64] = [SweepConfiguration.tune.seed]
    public var steps = SweepConfiguration.tune.steps
    public var batch = SweepConfiguration.tune.batchSize
    /// nil: the method's default (`tune`'s: 1, 0.01, 1 for soft and pez; 5e-5, 0, 5 for rlprompt).
    public var lr: Float?
    public var weightDecay: Float?
    public var clip: Float?
    public var faithfulnessKL = SweepConfiguration.tune.faithfulnessKL
    public var langevin = SweepConfiguration.tune.langevinTemperature
    public var evalEvery = SweepConfiguration.tune.evaluateEvery
    public var metric = SweepConfiguration.tune.metric
    /// random, classwords, manual or text:<words>, as `tune --initialization`; with manual each run starts from its
    /// task's manual prompt at that prompt's length (give one prompt length: it is not used).
    public var initialization = "random"
    public var excludeNonASCII = false
    public var excludeNonWords = false
    public var excludeUnstable = false
    /// Template text, or "pez" / "rlprompt" for the built-in ones (default: PEZ's).
    public var template: String?
    public var verbalizers: [String]?
    public var maxSentenceTokens = 128
    public var testLimit: Int?
    /// Which rows a limited test evaluation reads: spread (default) or first (as runs before the spread measured).
    public var testRows: TestRows = .spread
    /// RLPrompt's options (`tune`'s of the same names); nil: its defaults.
    public var fluentTopK: Int?
    public var samplesPerStep: Int?
    public var policyHidden: Int?
    /// gcg's options (`tune`'s of the same names); nil: its defaults.
    public var candidates: Int?
    public var candidatesPerPosition: Int?
    /// "MAX:MIN", as `tune --edit-budget`.
    public var editBudget: String?
    public var trajectory: Int?
    public var repetitionPenalty: Float?
    /// soft and pez: "full" or "context", as `tune --fluency-gradient`.
    public var fluencyGradient = SweepConfiguration.tune.fluencyGradient
    /// "dev-accuracy" or "dev-loss", as `tune --select`.
    public var select = SweepConfiguration.tune.selection
    /// The frozen model's products in every run, as `--precision`; plans made before the key read as fp32.
    public var precision = Precision.fp32

    public init(model: String) { self.model = model }

    /// The defaults of `legible tune`, which the tuning keys share.
    public static let tune = TuningConfiguration()

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, methods, tasks, data, splits, scrutability, faithfulness, seeds, steps, batch, lr, clip, langevin
        case metric, initialization, template, verbalizers
        case promptLengths = "prompt_lengths", weightDecay = "weight_decay", faithfulnessKL = "faithfulness_kl"
        case evalEvery = "eval_every", excludeNonASCII = "exclude_non_ascii", excludeNonWords = "exclude_non_words"
        case excludeUnstable = "exclude_unstable", maxSentenceTokens = "max_sentence_tokens", testLimit = "test_limit"
        case testRows = "test_rows"
        case fluentTopK = "fluent_top_k", samplesPerStep = "samples_per_step", policyHidden = "policy_hidden"
        case candidates, candidatesPerPosition = "candidates_per_position", editBudget = "edit_budget", trajectory
        case repetitionPenalty = "repetition_penalty", fluencyGradient = "fluency_gradient", select, precision
    }

    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }

    /// Reads a configuration file's JSON, naming the key at fault when a key is unknown or a value has the wrong type.
    public static func decode(_ data: Data) throws -> SweepConfiguration {
        do {
            return try JSONDecoder().decode(SweepConfiguration.self, from: data)
        } catch let error as DecodingError {
            throw SweepError.invalidValue(key: error.keyPath, reason: error.reason)
        }
    }

    public init(from decoder: Decoder) throws {
        let any = try decoder.container(keyedBy: AnyKey.self)
        if let unknown = any.allKeys.map(\.stringValue).sorted().first(where: { CodingKeys(rawValue: $0) == nil }) {
            throw SweepError.unknownKey(unknown, known: Self.keys)
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func list<T: Decodable>(_ key: CodingKeys, _ fallback: [T]) throws -> [T] {
            guard c.contains(key) else { return fallback }
            if let single = try? c.decode(T.self, forKey: key) { return [single] }
            return try c.decode([T].self, forKey: key)
        }
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try c.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        model = try c.decode(String.self, forKey: .model)
        methods = try list(.methods, methods.map(\.rawValue)).map { name in
            guard let method = TuningMethod(rawValue: name) else {
                throw SweepError.invalidValue(key: "methods", reason: "unknown method '\(name)'; known: \(TuningMethod.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return method
        }
        tasks = try list(.tasks, tasks)
        data = try value(.data, data)
        splits = try list(.splits, splits)
        scrutability = try list(.scrutability, scrutability)
        faithfulness = try list(.faithfulness, faithfulness)
        promptLengths = try list(.promptLengths, promptLengths)
        seeds = try list(.seeds, seeds)
        steps = try value(.steps, steps)
        batch = try value(.batch, batch)
        lr = try c.decodeIfPresent(Float.self, forKey: .lr)
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay)
        clip = try c.decodeIfPresent(Float.self, forKey: .clip)
        faithfulnessKL = try value(.faithfulnessKL, faithfulnessKL)
        langevin = try value(.langevin, langevin)
        evalEvery = try value(.evalEvery, evalEvery)
        let metricName = try value(.metric, metric.rawValue)
        guard let metric = ProjectionMetric(rawValue: metricName) else {
            throw SweepError.invalidValue(key: "metric", reason: "unknown metric '\(metricName)'; known: \(ProjectionMetric.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.metric = metric
        initialization = try value(.initialization, initialization)
        excludeNonASCII = try value(.excludeNonASCII, excludeNonASCII)
        excludeNonWords = try value(.excludeNonWords, excludeNonWords)
        excludeUnstable = try value(.excludeUnstable, excludeUnstable)
        template = try c.decodeIfPresent(String.self, forKey: .template)
        verbalizers = try c.decodeIfPresent([String].self, forKey: .verbalizers)
        maxSentenceTokens = try value(.maxSentenceTokens, maxSentenceTokens)
        testLimit = try c.decodeIfPresent(Int.self, forKey: .testLimit)
        testRows = try value(.testRows, testRows)
        fluentTopK = try c.decodeIfPresent(Int.self, forKey: .fluentTopK)
        samplesPerStep = try c.decodeIfPresent(Int.self, forKey: .samplesPerStep)
        policyHidden = try c.decodeIfPresent(Int.self, forKey: .policyHidden)
        candidates = try c.decodeIfPresent(Int.self, forKey: .candidates)
        candidatesPerPosition = try c.decodeIfPresent(Int.self, forKey: .candidatesPerPosition)
        editBudget = try c.decodeIfPresent(String.self, forKey: .editBudget)
        trajectory = try c.decodeIfPresent(Int.self, forKey: .trajectory)
        repetitionPenalty = try c.decodeIfPresent(Float.self, forKey: .repetitionPenalty)
        let gradientName = try value(.fluencyGradient, fluencyGradient.rawValue)
        guard let gradient = FluencyGradient(rawValue: gradientName) else {
            throw SweepError.invalidValue(key: "fluency_gradient", reason: "unknown form '\(gradientName)'; known: \(FluencyGradient.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        fluencyGradient = gradient
        let selectName = try value(.select, select.rawValue)
        guard let selection = PromptSelection(rawValue: selectName) else {
            throw SweepError.invalidValue(key: "select", reason: "unknown selection '\(selectName)'; known: \(PromptSelection.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        select = selection
        let precisionName = try value(.precision, precision.rawValue)
        guard let precision = Precision(rawValue: precisionName) else {
            throw SweepError.invalidValue(key: "precision", reason: "unknown precision '\(precisionName)'; known: \(Precision.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.precision = precision
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(methods.map(\.rawValue), forKey: .methods)
        try c.encode(tasks, forKey: .tasks)
        try c.encode(data, forKey: .data)
        try c.encode(splits, forKey: .splits)
        try c.encode(scrutability, forKey: .scrutability)
        try c.encode(faithfulness, forKey: .faithfulness)
        try c.encode(promptLengths, forKey: .promptLengths)
        try c.encode(seeds, forKey: .seeds)
        try c.encode(steps, forKey: .steps)
        try c.encode(batch, forKey: .batch)
        try c.encodeIfPresent(lr, forKey: .lr)
        try c.encodeIfPresent(weightDecay, forKey: .weightDecay)
        try c.encodeIfPresent(clip, forKey: .clip)
        try c.encode(faithfulnessKL, forKey: .faithfulnessKL)
        try c.encode(langevin, forKey: .langevin)
        try c.encode(evalEvery, forKey: .evalEvery)
        try c.encode(metric.rawValue, forKey: .metric)
        try c.encode(initialization, forKey: .initialization)
        try c.encode(excludeNonASCII, forKey: .excludeNonASCII)
        try c.encode(excludeNonWords, forKey: .excludeNonWords)
        try c.encode(excludeUnstable, forKey: .excludeUnstable)
        try c.encodeIfPresent(template, forKey: .template)
        try c.encodeIfPresent(verbalizers, forKey: .verbalizers)
        try c.encode(maxSentenceTokens, forKey: .maxSentenceTokens)
        try c.encodeIfPresent(testLimit, forKey: .testLimit)
        try c.encode(testRows, forKey: .testRows)
        try c.encodeIfPresent(fluentTopK, forKey: .fluentTopK)
        try c.encodeIfPresent(samplesPerStep, forKey: .samplesPerStep)
        try c.encodeIfPresent(policyHidden, forKey: .policyHidden)
        try c.encodeIfPresent(candidates, forKey: .candidates)
        try c.encodeIfPresent(candidatesPerPosition, forKey: .candidatesPerPosition)
        try c.encodeIfPresent(editBudget, forKey: .editBudget)
        try c.encodeIfPresent(trajectory, forKey: .trajectory)
        try c.encodeIfPresent(repetitionPenalty, forKey: .repetitionPenalty)
        try c.encode(fluencyGradient.rawValue, forKey: .fluencyGradient)
        try c.encode(select.rawValue, forKey: .select)
        // Written only when not the default, so a float32 plan reads as it did before the key existed.
        if precision != .fp32 { try c.encode(precision.rawValue, forKey: .precision) }
    }

    /// The template text a method's runs use: the one given, else the method's own.
    public func templateText(for method: TuningMethod) -> String { TaskTemplate.text(template, method: method) }

    public var promptInitialization: PromptInitialization? {
        switch initialization {
        case "random": return .randomTokens
        case "classwords": return .classWords
        case "manual": return .manualPrompt
        case let value where value.hasPrefix("text:"): return .text(String(value.dropFirst(5)))
        default: return nil
        }
    }

    /// Checks every value a user can get wrong; the message names the key.
    public func validate() throws {
        func check(_ ok: Bool, _ key: CodingKeys, _ reason: String) throws {
            if !ok { throw SweepError.invalidValue(key: key.rawValue, reason: reason) }
        }
        func distinct<T: Hashable>(_ values: [T], _ key: CodingKeys) throws {
            try check(!values.isEmpty, key, "give at least one value")
            try check(Set(values).count == values.count, key, "a value is listed twice")
        }
        try check(!model.isEmpty, .model, "give the model's path")
        try distinct(methods, .methods)
        try distinct(tasks, .tasks)
        for task in tasks {
            try check(!task.isEmpty && !task.contains("/"), .tasks, "a task is a folder name under data, such as sst-2")
            // Checked here when the data is on this machine (a cluster may hold it elsewhere): a typo costs no run.
            let root = URL(fileURLWithPath: data)
            if TaskData.isDirectory(root) && !TaskData.isDirectory(root.appendingPathComponent(task)) {
                throw SweepError.invalidValue(key: "tasks", reason: "\(DatasetError.missingTask(task, root: data, available: TaskData.tasks(in: root)))")
            }
            // Other tasks' class counts are known only from their data, when their runs load it.
            if let preset = TaskCatalog.preset(named: task), let words = preset.labelWords, let verbalizers {
                try check(verbalizers.count == words.count, .verbalizers, "\(task) has \(words.count) classes; \(verbalizers.count) verbalizers given")
            }
        }
        try distinct(splits, .splits)
        try check(splits.allSatisfy { !$0.isEmpty && !$0.contains("/") }, .splits, "a split is a folder name such as 16-100")
        try distinct(scrutability, .scrutability)
        try check(scrutability.allSatisfy { $0.isFinite && $0 >= 0 }, .scrutability, "weights must be finite and not negative")
        try distinct(faithfulness, .faithfulness)
        try check(faithfulness.allSatisfy { $0.isFinite && $0 >= 0 }, .faithfulness, "weights must be finite and not negative")
        try distinct(promptLengths, .promptLengths)
        try check(promptInitialization != .manualPrompt || promptLengths.count == 1, .promptLengths,
                  "with \"initialization\": \"manual\" each run takes its manual prompt's length: give one value")
        try check(promptLengths.allSatisfy { $0 >= 1 }, .promptLengths, "prompt lengths must be at least 1")
        try distinct(seeds, .seeds)
        try check(steps >= 0, .steps, "cannot be negative")
        try check(batch >= 1, .batch, "must be at least 1")
        try check(lr.map { $0.isFinite && $0 > 0 } ?? true, .lr, "must be positive")
        try check(weightDecay.map { $0.isFinite && $0 >= 0 } ?? true, .weightDecay, "cannot be negative")
        try check(clip.map { $0.isFinite && $0 >= 0 } ?? true, .clip, "cannot be negative (0: no clipping)")
        try check((fluentTopK ?? 1) >= 1, .fluentTopK, "must be at least 1")
        try check((samplesPerStep ?? 2) >= 2, .samplesPerStep, "must be at least 2 (rewards are z-scored across the samples)")
        try check((policyHidden ?? 1) >= 1, .policyHidden, "must be at least 1")
        try check((candidates ?? 1) >= 1, .candidates, "must be at least 1")
        try check((candidatesPerPosition ?? 1) >= 1, .candidatesPerPosition, "must be at least 1")
        try check(editBudget.map { EditBudget(parsing: $0).map { $0.minimum >= 1 && $0.maximum >= $0.minimum } ?? false } ?? true,
                  .editBudget, "must be MAX:MIN with 1 ≤ MIN ≤ MAX, e.g. \"3:1\"")
        try check((trajectory ?? 0) >= 0, .trajectory, "cannot be negative")
        try check(repetitionPenalty.map { $0.isFinite && $0 >= 0 } ?? true, .repetitionPenalty, "must be finite and not negative")
        try check(faithfulnessKL.isFinite && faithfulnessKL >= 0, .faithfulnessKL, "cannot be negative")
        try check(langevin.isFinite && langevin >= 0, .langevin, "cannot be negative")
        try check(evalEvery >= 1, .evalEvery, "must be at least 1")
        try check(promptInitialization != nil, .initialization, "must be random, classwords, manual or text:<words>")
        try check(maxSentenceTokens >= 1, .maxSentenceTokens, "must be at least 1")
        if let testLimit { try check(testLimit >= 1, .testLimit, "must be at least 1") }
        do { for method in methods { _ = try TaskTemplate(templateText(for: method)) } } catch {
            throw SweepError.invalidValue(key: "template", reason: "\(error)")
        }
    }

    /// The task/split folders the grid needs that are not under `data` (relative paths from the current directory).
    public func missingData() -> [String] {
        let root = URL(fileURLWithPath: data)
        return tasks.flatMap { task in splits.map { root.appendingPathComponent(task).appendingPathComponent($0).path } }
            .filter { !FileManager.default.fileExists(atPath: $0) }
    }

    /// The keys whose values differ between two configurations.
    public func differences(from other: SweepConfiguration) -> [String] {
        let encoder = JSONEncoder.sortedKeys
        guard let a = try? JSONSerialization.jsonObject(with: encoder.encode(self)) as? [String: Any],
              let b = try? JSONSerialization.jsonObject(with: encoder.encode(other)) as? [String: Any]
        else { return self == other ? [] : ["configuration"] }
        return Self.keys.filter { key in
            switch (a[key], b[key]) {
            case (nil, nil): return false
            case let (x?, y?):
                let json = { (value: Any) in try? JSONSerialization.data(withJSONObject: [value], options: .sortedKeys) }
                return json(x) != json(y)
            default: return true
            }
        }
    }
}

/// One run of a sweep: its place in the grid and the full tuning configuration.
public struct SweepRun: Codable, Equatable, Sendable {
    /// Position in the plan, from 0; shards take runs by index.
    public var index: Int
    /// The index written with leading zeros ("0007"), the start of the run's folder name.
    public var id: String
    /// The run folder, relative to the sweep folder.
    public var directory: String
    public var method: TuningMethod
    public var task: String
    public var split: String
    public var scrutability: Float
    public var faithfulness: Float
    public var promptLength: Int
    public var seed: UInt64
    public var tuning: TuningConfiguration

    /// A weight as folder names and tables show it: "0", "0.1", "1e-05".
    public static func format(_ x: Float) -> String {
        x == x.rounded() && abs(x) < 1e9 ? String(Int64(x)) : "\(x)"
    }

    enum CodingKeys: String, CodingKey {
        case index, id, directory, method, task, split, scrutability, faithfulness, seed, tuning
        case promptLength = "prompt_length"
    }
}

public struct SweepPlan: Codable, Equatable, Sendable {
    public var version = 1
    public var configuration: SweepConfiguration
    public var runs: [SweepRun]

    /// Validates the configuration and expands its grid. The order is fixed — methods, then λ, γ, tasks, splits,
    /// prompt lengths and seeds, the last varying fastest — so the same configuration always gives the same ids.
    /// More runs than any machine or cluster here would finish; a plan is held in memory and written as one file.
    public static let runLimit = 100_000

    public init(_ configuration: SweepConfiguration) throws {
        try configuration.validate()
        let c = configuration
        let axes = [c.methods.count, c.scrutability.count, c.faithfulness.count, c.tasks.count, c.splits.count, c.promptLengths.count, c.seeds.count]
        let count = axes.reduce(1) { product, axis in
            let (result, overflow) = product.multipliedReportingOverflow(by: axis)
            return overflow ? Int.max : result
        }
        guard count <= Self.runLimit else {
            throw SweepError.invalidValue(key: "configuration", reason: "the grid holds \(count == Int.max ? "more than 2^63" : "\(count)") runs; a sweep is limited to \(Self.runLimit) (split it into several)")
        }
        self.configuration = configuration
        var grid: [(TuningMethod, Float, Float, String, String, Int, UInt64)] = []
        for method in configuration.methods {
            for lambda in configuration.scrutability {
                for gamma in configuration.faithfulness {
                    for task in configuration.tasks {
                        for split in configuration.splits {
                            for length in configuration.promptLengths {
                                for seed in configuration.seeds {
                                    grid.append((method, lambda, gamma, task, split, length, seed))
                                }
                            }
                        }
                    }
                }
            }
        }
        let width = max(4, String(max(grid.count - 1, 0)).count)
        runs = try grid.enumerated().map { index, cell in
            let (method, lambda, gamma, task, split, length, seed) = cell
            var tuning = TuningConfiguration(method: method)
            tuning.promptLength = length; tuning.steps = configuration.steps; tuning.batchSize = configuration.batch
            if let lr = configuration.lr { tuning.learningRate = lr }
            if let weightDecay = configuration.weightDecay { tuning.weightDecay = weightDecay }
            if let clip = configuration.clip { tuning.maxGradientNorm = clip }
            if method == .rlprompt {
                tuning.policy.fluentTopK = configuration.fluentTopK
                if let samples = configuration.samplesPerStep { tuning.policy.samplesPerStep = samples }
                if let hidden = configuration.policyHidden { tuning.policy.hiddenWidth = hidden }
            }
            if method == .gcg {
                if let candidates = configuration.candidates { tuning.search.candidates = candidates }
                if let k = configuration.candidatesPerPosition { tuning.search.candidatesPerPosition = k }
                if let budget = configuration.editBudget.flatMap(EditBudget.init(parsing:)) { tuning.search.editBudget = budget }
                if let trajectory = configuration.trajectory { tuning.search.trajectory = trajectory }
                if let rho = configuration.repetitionPenalty { tuning.search.repetitionPenalty = rho }
            }
            if !method.isDiscrete { tuning.fluencyGradient = configuration.fluencyGradient }
            tuning.selection = configuration.select
            tuning.scrutability = lambda; tuning.faithfulness = gamma; tuning.faithfulnessKL = configuration.faithfulnessKL
            tuning.langevinTemperature = configuration.langevin; tuning.seed = seed
            tuning.evaluateEvery = configuration.evalEvery; tuning.metric = configuration.metric
            tuning.filter = TokenFilter(excludeNonASCII: configuration.excludeNonASCII, excludeNonWords: configuration.excludeNonWords,
                                        excludeUnstable: configuration.excludeUnstable)
            tuning.initialization = configuration.promptInitialization ?? .randomTokens
            do { try tuning.validate() } catch { throw SweepError.invalidValue(key: "configuration", reason: "\(error)") }
            let zeros = String(repeating: "0", count: max(0, width - String(index).count))
            let id = zeros + String(index)
            let name = "\(id)-\(method.rawValue)-\(task)-\(split)-l\(SweepRun.format(lambda))-g\(SweepRun.format(gamma))-n\(length)-s\(seed)"
            return SweepRun(index: index, id: id, directory: "runs/" + Self.folderName(name), method: method, task: task,
                            split: split, scrutability: lambda, faithfulness: gamma, promptLength: length, seed: seed, tuning: tuning)
        }
    }

    /// The runs one shard takes.
    public func runs(in shard: SweepShard) -> [SweepRun] { runs.filter { shard.contains($0.index) } }

    /// Keeps folder names portable: letters, digits, '.', '-' and '_'.
    static func folderName(_ name: String) -> String {
        String(name.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar)) ? Character(scalar) : "_"
        })
    }
}

/// A coding key for any name: used to find keys a configuration does not know.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension DecodingError {
    /// The configuration key at fault, e.g. "scrutability" or "seeds[1]".
    var keyPath: String {
        let path: [CodingKey]
        switch self {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): path = c.codingPath
        case .keyNotFound(let key, let c): path = c.codingPath + [key]
        @unknown default: path = []
        }
        let text = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "(file)" : text)
    }

    var reason: String {
        switch self {
        case .typeMismatch(let type, _): return "expected \(Self.describe(type))"
        case .valueNotFound(let type, _): return "expected \(Self.describe(type)), found null"
        case .keyNotFound: return "required key missing"
        case .dataCorrupted(let c): return c.underlyingError.map { "not valid JSON (\($0.localizedDescription))" } ?? c.debugDescription
        @unknown default: return "\(self)"
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type, is UInt64.Type: return "a whole number"
        case is Float.Type, is Double.Type: return "a number"
        default: return String(describing: type).hasPrefix("Array") ? "a list" : "a value of type \(type)"
        }
    }
}
