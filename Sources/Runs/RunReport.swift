// report.json: what a tuning run or an evaluation measured. Every field is documented in the README.
// Fields added after the first reports are optional, so a sweep still reads the reports of older runs.
import Tasks

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
        /// Share of the test examples of each true label, in label order: what the prediction rates compare to.
        public var labelRates: [Double]?
        /// Share of the test examples each prompt variant predicts as each class: a prompt that answers one class
        /// for everything shows a 1 there, whatever its accuracy.
        public var predictionRates: PredictionRates?
        /// Which rows a limited evaluation read (absent in reports written before `spread`, which read the first).
        public var rows: TestRows?
        enum CodingKeys: String, CodingKey {
            case accuracy, examples, rows
            case accuracyProjected = "accuracy_projected", accuracyText = "accuracy_text"
            case labelRates = "label_rates", predictionRates = "prediction_rates"
        }
    }
    /// Per prompt variant, the share of examples predicted as each class, in label order.
    public struct PredictionRates: Codable, Sendable, Equatable {
        /// With the soft prompt itself (nil for prompts that are only tokens).
        public var soft: [Double]?
        public var projected: [Double]
        public var text: [Double]
        public init(soft: [Double]?, projected: [Double], text: [Double]) {
            self.soft = soft; self.projected = projected; self.text = text
        }
    }
    public struct ZeroShot: Codable, Sendable {
        public var accuracyEmpty: Double
        /// With the task's manual prompt; nil when the task gives none (a description without "manual_prompt").
        public var accuracyManual: Double?
        public var manualPrompt: String?
        /// Share of the test examples predicted as each class with no prompt and with the manual prompt.
        public var predictionRatesEmpty: [Double]?
        public var predictionRatesManual: [Double]?
        /// The manual prompt's log-perplexity, measured as `scrutability.log_ppl` is: a reference point for readability.
        public var manualLogPerplexity: Double?
        enum CodingKeys: String, CodingKey {
            case accuracyEmpty = "accuracy_empty", accuracyManual = "accuracy_manual", manualPrompt = "manual_prompt"
            case predictionRatesEmpty = "prediction_rates_empty", predictionRatesManual = "prediction_rates_manual"
            case manualLogPerplexity = "manual_log_ppl"
        }
    }
    public struct Faithfulness: Codable, Sendable {
        public var kl: Double
        public var agreement: Double
        public var accuracyGap: Double
        public var cosineToNearest: Double
        /// Share of the test examples where the soft prompt and no prompt at all predict the same label: the level
        /// `agreement` would reach if both prompts stopped doing anything (nil without a soft prompt).
        public var agreementEmpty: Double?
        enum CodingKeys: String, CodingKey {
            case kl, agreement
            case accuracyGap = "accuracy_gap", cosineToNearest = "cosine_to_nearest", agreementEmpty = "agreement_empty"
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
