// How predictions spread over the classes, and how often two prompts predict alike. A prompt that answers one
// class for every example is visible here whatever its accuracy; so is agreement that only means "both do nothing".
// Dimensions: N examples, K classes (label order, as the verbalizer lists them).
import Tasks
import Tuning

public enum ClassRates {
    /// Share of the rows whose most probable class is each class: K values summing to 1 (all 0 for no rows).
    /// `scores`: (N, K) class log-probabilities, as `PromptClassifier.labelLogProbabilities` gives them.
    public static func predicted(_ scores: [[Float]], classes K: Int) -> [Double] {
        shares(of: scores.map(PromptClassifier.predicted), classes: K)
    }

    /// Share of the examples whose true label is each class: K values summing to 1 (all 0 for no examples).
    public static func labels(_ examples: [EncodedExample], classes K: Int) -> [Double] {
        shares(of: examples.map(\.label), classes: K)
    }

    /// Share of the rows where two score sets, (N, K) each over the same examples, predict the same class.
    public static func agreement(_ a: [[Float]], _ b: [[Float]]) -> Double {
        precondition(a.count == b.count, "both score sets cover the same examples")
        guard !a.isEmpty else { return 0 }
        let same = zip(a, b).filter { PromptClassifier.predicted($0.0) == PromptClassifier.predicted($0.1) }.count
        return Double(same) / Double(a.count)
    }

    static func shares(of classes: [Int], classes K: Int) -> [Double] {
        var counts = [Int](repeating: 0, count: K)
        for c in classes {
            precondition((0..<K).contains(c), "class \(c) outside 0..<\(K)")
            counts[c] += 1
        }
        return counts.map { classes.isEmpty ? 0 : Double($0) / Double(classes.count) }
    }
}
