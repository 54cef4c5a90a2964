// report.json: what a tuning run or an evaluation measured. Every field is documented in the README.

public struct RunReport: Codable, Sendable {
    public struct Prompt: Codable, Sendable {
        public var ids: [Int32]
        public var text: String
        public var tokens: [String]
    }
    public struct Test: Codable, Sendable {
        /// With the soft prompt itself (nil for prompts that are only tokens).
        public var accuracy: Double?
        public var accuracyProjected: Double
        public var accuracyText: Double
        public var examples: Int
        enum CodingKeys: String, CodingKey {
            case accuracy, examples
            case accuracyProjected = "accuracy_projected", accuracyText = "accuracy_text"
        }
    }
    public struct ZeroShot: Codable, Sendable {
        public var accuracyEmpty: Double
        public var accuracyManual: Double
        public var manualPrompt: String
        enum CodingKeys: String, CodingKey {
            case accuracyEmpty = "accuracy_empty", accuracyManual = "accuracy_manual", manualPrompt = "manual_prompt"
        }
    }
    public struct Faithfulness: Codable, Sendable {
        public var kl: Double
        public var agreement: Double
        public var accuracyGap: Double
        public var cosineToNearest: Double
        enum CodingKeys: String, CodingKey {
            case kl, agreement
            case accuracyGap = "accuracy_gap", cosineToNearest = "cosine_to_nearest"
        }
    }
    public struct Scrutability: Codable, Sendable {
        public var logPerplexity: Double
        public var distinctRatio: Double
        public var wordRatio: Double
        public var oddTokens: Int
        enum CodingKeys: String, CodingKey {
            case logPerplexity = "log_ppl", distinctRatio = "distinct_ratio", wordRatio = "word_ratio", oddTokens = "odd_tokens"
        }
    }
    public struct Timing: Codable, Sendable {
        public var seconds: Double
        public var stepsPerSecond: Double
        public var evaluationSeconds: Double
        public init(seconds: Double, stepsPerSecond: Double, evaluationSeconds: Double) {
            self.seconds = seconds; self.stepsPerSecond = stepsPerSecond; self.evaluationSeconds = evaluationSeconds
        }
        enum CodingKeys: String, CodingKey {
            case seconds, stepsPerSecond = "steps_per_second", evaluationSeconds = "evaluation_seconds"
        }
    }

    public var method: String
    public var model: String
    public var task: String
    public var split: String
    public var template: String
    public var verbalizers: [String]
    public var steps: Int
    public var bestStep: Int?
    public var devAccuracy: Double?
    public var prompt: Prompt
    public var test: Test
    public var zeroShot: ZeroShot
    public var faithfulness: Faithfulness
    public var scrutability: Scrutability
    public var timing: Timing

    public init(method: String, model: String, task: String, split: String, template: String, verbalizers: [String],
                steps: Int, bestStep: Int?, devAccuracy: Double?, prompt: Prompt, test: Test, zeroShot: ZeroShot,
                faithfulness: Faithfulness, scrutability: Scrutability, timing: Timing) {
        self.method = method; self.model = model; self.task = task; self.split = split; self.template = template
        self.verbalizers = verbalizers; self.steps = steps; self.bestStep = bestStep; self.devAccuracy = devAccuracy
        self.prompt = prompt; self.test = test; self.zeroShot = zeroShot; self.faithfulness = faithfulness
        self.scrutability = scrutability; self.timing = timing
    }

    enum CodingKeys: String, CodingKey {
        case method, model, task, split, template, verbalizers, steps, prompt, test, faithfulness, scrutability, timing
        case bestStep = "best_step", devAccuracy = "dev_accuracy", zeroShot = "zero_shot"
    }
}
