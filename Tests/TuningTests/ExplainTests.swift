// `legible explain` on a tiny random GPT-2 and the tiny sentiment task: every number it reports is what a
// separate evaluation gives, the saliency is the margin's derivative, and the guidelines say only what the numbers do.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import Models
import Runs
import Tasks
import TestSupport
@testable import Explanations
@testable import Tuning

@Suite struct ExplainTests {
    static let ids: [Int32] = Tiny.tokenizer.encode(" great film, truly a")

    /// The same task and model as the explainer, evaluated from scratch.
    static func evaluate(_ ids: [Int32], model: DecoderModel, task: PromptTask) throws -> (accuracy: Double, margin: Double) {
        let classifier = PromptClassifier(model: model, verbalizer: task.verbalizer, batchSize: 5)
        let examples = task.testExamples(limit: nil)
        let scores = try classifier.labelLogProbabilities(examples, prompt: model.promptEmbeddings(of: ids))
        let margin = zip(scores, examples).reduce(0.0) { $0 + PromptClassifier.margin($1.0, label: $1.1.label) } / Double(examples.count)
        return (PromptClassifier.accuracy(scores, examples), margin)
    }

    /// With the prompt first the examples share their start; with the sentence first the explainer scores every prompt
    /// after each example's cached prefix instead of running it whole. Either way its numbers are the separate
    /// evaluations', which run every example whole.
    @Test(arguments: [TaskTemplate.pez, TaskTemplate.rlprompt])
    func eachTokensEffectIsASeparateEvaluationOfThePromptWithoutIt(template: String) throws {
        let (model, task) = (Tiny.model(), try Tiny.task(template: template))
        let explainer = PromptExplainer(model: model, tokenizer: Tiny.tokenizer, task: task, testLimit: nil)
        #expect(explainer.cachesPrefixes == (template == TaskTemplate.rlprompt))
        let explanation = try explainer.explain(ids: Self.ids)
        #expect(explanation.tokens.map(\.id) == Self.ids && explanation.examples == task.test.count)
        let whole = try Self.evaluate(Self.ids, model: model, task: task), empty = try Self.evaluate([], model: model, task: task)
        #expect(explanation.accuracy == whole.accuracy && explanation.accuracyEmpty == empty.accuracy)
        // 1e-5: the same float32 scores summed in another order.
        #expect(abs(explanation.margin - whole.margin) < 1e-5 && abs(explanation.marginEmpty - empty.margin) < 1e-5)
        for (i, token) in explanation.tokens.enumerated() {
            var without = Self.ids
            without.remove(at: i)
            let separate = try Self.evaluate(without, model: model, task: task)
            #expect(token.accuracyWithout == separate.accuracy, "token \(i)")
            #expect(abs(token.marginWithout - separate.margin) < 1e-5, "token \(i)")
            var replaced = Self.ids
            replaced[i] = Tiny.tokenizer.encode(token.neutral)[0]
            #expect(token.accuracyNeutral == (try Self.evaluate(replaced, model: model, task: task)).accuracy, "token \(i)")
            #expect(PromptExplainer.neutralWords.contains(token.neutral) && replaced[i] != token.id, "token \(i)")  // "," and " a" are neutral words themselves
            #expect(token.labelAffinity.count == 2 && task.verbalizer.words.contains(token.nearestLabelWord))
        }
        let rates = explanation.classes.map(\.withPrompt)
        #expect(abs(rates.reduce(0, +) - 1) < 1e-9)
        #expect(explanation.fixed.count <= 3 && explanation.broken.count <= 3 && !explanation.guidelines.isEmpty)
    }

    /// Saliency is Σ gradient × input of the mean margin: the derivative along the token's own vector, d/dε of the
    /// margin with that vector scaled by (1 + ε). Central differences with ε = 1e-2 (error O(ε²)). The tiny random
    /// model's saliencies are of order 1e-4 and the differences were measured 0.2–1.6% off them; tolerance 3% plus
    /// 1e-6 (float32 noise of ~1e-8 in the margins, divided by 2ε).
    @Test func saliencyIsTheMarginsDerivativeAlongEachTokensVector() throws {
        let (model, task) = (Tiny.model(), try Tiny.task())
        let explanation = try PromptExplainer(model: model, tokenizer: Tiny.tokenizer, task: task, testLimit: nil).explain(ids: Self.ids)
        let classifier = PromptClassifier(model: model, verbalizer: task.verbalizer, batchSize: 5)
        let examples = task.testExamples(limit: nil), prompt = try model.promptEmbeddings(of: Self.ids), C = model.width
        let epsilon: Float = 1e-2
        for i in Self.ids.indices {
            func margin(_ scale: Float) throws -> Double {
                var scaled = prompt
                for c in 0..<C { scaled.values[i * C + c] *= scale }
                return try classifier.marginAndGradient(examples, prompt: scaled).margin
            }
            let difference = (try margin(1 + epsilon) - margin(1 - epsilon)) / Double(2 * epsilon)
            let saliency = explanation.tokens[i].saliency
            #expect(abs(difference - saliency) <= 0.03 * abs(saliency) + 1e-6, "token \(i): \(difference) vs \(saliency)")
        }
        #expect(explanation.tokens.contains { abs($0.saliency) > 1e-5 }, "saliencies this small would make the check above vacuous")
    }

    /// The greedy sub-prompt's accuracy is its own evaluation's, and it keeps the 90% it claims.
    @Test(arguments: [TaskTemplate.pez, TaskTemplate.rlprompt])
    func theSubPromptKeepsWhatItReports(template: String) throws {
        let (model, task) = (Tiny.model(), try Tiny.task(template: template))
        let explainer = PromptExplainer(model: model, tokenizer: Tiny.tokenizer, task: task, testLimit: nil)
        let whole = try Self.evaluate(Self.ids, model: model, task: task)
        // A baseline set below the prompt, so the search has a gain to keep whatever the random model does.
        let baseline = whole.accuracy - 0.25
        let sub = try explainer.shortestSubPrompt(Self.ids, accuracy: whole.accuracy, accuracyEmpty: baseline) { _ in }
        #expect(sub.ids.count < Self.ids.count && sub.ids.allSatisfy(Self.ids.contains))
        #expect(sub.accuracy == (try Self.evaluate(sub.ids, model: model, task: task)).accuracy)
        #expect(sub.gainKept >= 0.9 && abs(sub.gainKept - (sub.accuracy - baseline) / 0.25) < 1e-12)
        #expect(sub.text == Tiny.tokenizer.decode(sub.ids))
    }

    /// Guidelines read off hand-made numbers: the carrier, the primer, the free tokens, the token a function word beats,
    /// the sub-prompt, the class shift.
    @Test func guidelinesSayWhatTheNumbersSay() {
        func token(_ text: String, without: Double, neutral: Double? = nil, affinity: [Double]) -> PromptExplanation.Token {
            PromptExplanation.Token(id: 0, text: text, accuracyWithout: without, marginWithout: 0, neutral: " the", accuracyNeutral: neutral ?? without,
                                    marginNeutral: 0, saliency: 0, labelAffinity: affinity, nearestLabelWord: affinity[0] > affinity[1] ? " bad" : " good")
        }
        let e = PromptExplanation(
            task: "t", split: "s", template: "{prompt} {sentence}", text: " good movie !", examples: 100, accuracy: 0.8, margin: 1,
            accuracyEmpty: 0.6, marginEmpty: 0,
            tokens: [token(" good", without: 0.65, affinity: [0.1, 1]), token(" movie", without: 0.75, neutral: 0.84, affinity: [0.2, 0.3]),
                     token(" !", without: 0.81, affinity: [0.1, 0.1])],
            classes: [.init(label: "negative", withPrompt: 0.3, withoutPrompt: 0.6), .init(label: "positive", withPrompt: 0.7, withoutPrompt: 0.4)],
            fixed: [], broken: [], subPrompt: .init(ids: [1, 2], text: " good movie", accuracy: 0.79, gainKept: 0.95), neutralWords: [" the"], guidelines: [])
        let lines = Guidelines.read(e)
        #expect(lines[0] == "The prompt raises test accuracy from 60.0% with no prompt to 80.0% (+20.0 points on 100 examples).")
        #expect(lines.contains("\" good\" matters most: without it accuracy falls to 65.0% (-15.0 points, 75% of the gain)."))
        #expect(lines.contains("Removing any one of \" good\", \" movie\" costs at least 2.0 points."))
        #expect(lines.contains("\" good\" primes the label word \" good\" (cosine 1.00), and removing it costs 15.0 points."))
        #expect(lines.contains("\" !\" can be dropped at no cost in accuracy, one at a time."))
        // Only " movie" has a replacement 2 points or more above the prompt's 80% (" !"'s 81% is within the threshold).
        #expect(lines.filter { $0.hasPrefix("Replacing") }
            == ["Replacing \" movie\" by the function word \" the\" raises accuracy to 84.0% (+4.0 points): the learned token does worse than a plain word there."])
        // A repeated token is named by its position.
        var repeated = e
        repeated.tokens[2].text = " movie"
        repeated.tokens[2].accuracyNeutral = 0.83
        #expect(Guidelines.read(repeated).filter { $0.hasPrefix("Replacing") }.map { $0.components(separatedBy: " by ")[0] }
            == ["Replacing \" movie\" (token 2)", "Replacing \" movie\" (token 3)"])
        #expect(lines.contains { $0.hasPrefix("2 of the 3 tokens, \" good movie\", keep 95% of the gain (79.0%)") })
        #expect(lines.contains("The prompt moves predictions away from \"negative\": 60.0% of the examples without it, 30.0% with it."))
    }

    @Test func theCommandWritesItsExplanationAndRefusesAnEmptyPrompt() throws {
        let model = try Tiny.modelDirectory(Tiny.model()), data = try Tiny.dataRoot()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("legible-explain-\(UUID().uuidString)")
        let run = try legible(["explain", "--model", model.path, "--data", data.path, "--text", " great film", "--out", out.path, "--json"])
        #expect(run.status == 0, "\(run.error)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        let tokens = try #require(json["tokens"] as? [[String: Any]])
        #expect(tokens.count == 2 && tokens.allSatisfy { $0["accuracy_without"] is Double && $0["margin_without"] is Double })
        #expect(json["examples"] as? Int == 12 && json["guidelines"] is [String])
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("explanation.txt").path))
        // The page is well-formed XML (XHTML's namespace, hence local-name()), shades every token and lists every guideline.
        let page = try XMLDocument(contentsOf: out.appendingPathComponent("explanation.html"))
        let spans = try page.nodes(forXPath: "//*[local-name()='p'][@class='prompt']/*[local-name()='span']")
        #expect(spans.count == 2 && spans.map { $0.stringValue ?? "" }.joined() == " great film")
        #expect(try page.nodes(forXPath: "//*[local-name()='li']").count == (json["guidelines"] as? [String])?.count)
        let saved = try Data(contentsOf: out.appendingPathComponent("explanation.json"))
        #expect(String(decoding: saved, as: UTF8.self) == run.output.trimmingCharacters(in: .newlines))
        // Transfer: the text on another model is what `eval --text` measures there.
        let other = try Tiny.modelDirectory(Tiny.model(seed: 8))
        let transferred = try legible(["explain", "--model", model.path, "--data", data.path, "--text", " great film", "--transfer-model", other.path, "--json"])
        #expect(transferred.status == 0, "\(transferred.error)")
        let transfer = try #require((try JSONSerialization.jsonObject(with: Data(transferred.output.utf8)) as? [String: Any])?["transfer"] as? [String: Any])
        let evaluated = try legible(["eval", "--model", other.path, "--data", data.path, "--text", " great film", "--json"])
        let report = try JSONDecoder().decode(RunReport.self, from: Data(evaluated.output.utf8))
        #expect(transfer["accuracy_text"] as? Double == report.test.accuracyText && transfer["accuracy_empty"] as? Double == report.zeroShot.accuracyEmpty)
        let empty = try legible(["explain", "--model", model.path, "--data", data.path, "--text", ""])
        #expect(empty.status != 0 && empty.error.contains("the prompt has no tokens to explain"))
    }
}

@Suite struct EditFamilyTests {
    static func token(_ id: Int32, _ text: String) -> PromptEdit.Token { PromptEdit.Token(id: id, text: text) }

    /// Each rule on a hand-made token, and the order: the first rule met decides.
    @Test func eachTokenGoesToTheFirstFamilyWhoseRuleItMeets() {
        let words = [" terrible", " great"]
        func family(_ text: String, id: Int32 = 7, others: [Int32] = [1, 2], cosine: Double? = nil) -> EditFamily {
            EditFamily.of(Self.token(id, text), others: others, labelWords: words, labelCosine: cosine)
        }
        #expect(family(" the", others: [7]) == .repetition)  // a function word, but already in the prompt
        #expect(family(",") == .punctuation && family("  ") == .punctuation && family(" ...") == .punctuation)
        #expect(family(" терпеть") == .nonLatin && family("显得") == .nonLatin)
        #expect(family(" café") != .nonLatin)  // Latin with an accent
        #expect(family(" Great") == .labelWord && family(" awful", cosine: 0.6) == .labelWord && family(" awful", cosine: 0.4) == .other)
        #expect(family(" sentiment") == .instruction && family(" Review") == .instruction)
        #expect(family(" the") == .functionWord && family(" was") == .functionWord)
        #expect(family("ization") == .fragment && family(" ization") == .other && family("42") == .other)
    }

    /// Summaries count every edit once, average the changes the edits made, and share the evaluated ones that rose.
    @Test func familySummariesAddUpToTheEditsRead() {
        func edit(_ family: EditFamily, task: (Float, Float), perplexity: (Float, Float), dev: Double? = nil, previous: Double? = nil) -> RunEdits.Edit {
            let terms = { (t: Float, p: Float) in ObjectiveTerms(task: t, logPerplexity: p, repetition: 0, scrutability: 1) }
            return RunEdits.Edit(edit: PromptEdit(step: 1, position: 0, editSize: 1, old: Self.token(1, " a"), new: Self.token(2, " b"),
                                                  before: terms(task.0, perplexity.0), after: terms(task.1, perplexity.1), devAccuracy: dev),
                                 family: family, previousDevAccuracy: previous)
        }
        let edits = [edit(.functionWord, task: (1, 0.5), perplexity: (5, 4), dev: 0.7, previous: 0.6),
                     edit(.functionWord, task: (1, 0.9), perplexity: (5, 6), dev: 0.5, previous: 0.6),
                     edit(.functionWord, task: (2, 1.9), perplexity: (5, 5)),
                     edit(.nonLatin, task: (1, 0.8), perplexity: (4, 9)),
                     edit(.nonLatin, task: (1, 0.9), perplexity: (0, 0))]  // a λ = 0 run: log-perplexity not computed
        let summaries = EditAnalysis.summaries(edits)
        #expect(summaries.map(\.name) == ["non-Latin script", "function word"])
        #expect(summaries.reduce(0) { $0 + $1.count } == edits.count)
        let function = summaries[1]
        #expect(abs(function.meanDeltaTaskLoss - (-0.5 - 0.1 - 0.1) / 3) < 1e-6 && function.meanDeltaLogPerplexity == 0)
        #expect(function.evaluated == 2 && function.raisedDevAccuracy == 0.5 && function.logPerplexityMeasured == 3)
        #expect(summaries[0].evaluated == 0 && summaries[0].raisedDevAccuracy == nil)
        #expect(summaries[0].count == 2 && summaries[0].logPerplexityMeasured == 1 && summaries[0].meanDeltaLogPerplexity == 5)
    }
}
