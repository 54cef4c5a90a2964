// Plain sentences read off an explanation's numbers and nothing else: which tokens carry the gain, whether the
// prompt primes a label word, which tokens cost nothing to drop, which a plain function word beats, and the
// shortest sub-prompt that keeps the gain.
import Foundation

enum Guidelines {
    /// A token "carries" gain when removing it costs at least this much accuracy, and "costs nothing" when its
    /// removal loses none.
    static let carrying = 0.02
    /// A token primes a label word when its embedding's cosine to that word's is at least this (the word itself is 1).
    static let priming = 0.5

    static func read(_ e: PromptExplanation) -> [String] {
        var lines: [String] = []
        let gain = e.accuracy - e.accuracyEmpty
        lines.append(gain > 0
            ? "The prompt raises test accuracy from \(percent(e.accuracyEmpty)) with no prompt to \(percent(e.accuracy)) (\(points(gain)) on \(e.examples) examples)."
            : "The prompt does not beat no prompt on these \(e.examples) examples (\(percent(e.accuracy)) against \(percent(e.accuracyEmpty))): what its tokens do below is not a gain.")
        let losses = e.tokens.map { e.accuracy - $0.accuracyWithout }
        let carriers = e.tokens.indices.filter { losses[$0] >= carrying }.sorted { losses[$0] > losses[$1] }
        if let top = carriers.first {
            let share = gain > 0 ? ", \(Int((100 * losses[top] / gain).rounded()))% of the gain" : ""
            lines.append("\(quoted(e.tokens[top].text)) matters most: without it accuracy falls to \(percent(e.tokens[top].accuracyWithout)) (\(points(-losses[top]))\(share)).")
            if carriers.count > 1 {
                lines.append("Removing any one of \(carriers.map { quoted(e.tokens[$0].text) }.joined(separator: ", ")) costs at least \(cost(carrying)).")
            }
        }
        let primers = e.tokens.indices.filter { i in
            e.tokens[i].labelAffinity.max()! >= priming && losses[i] >= carrying
        }
        if primers.isEmpty {
            lines.append("No token that matters is close to a label word (cosine ≥ \(priming)): the prompt does not work by priming one.")
        } else {
            for i in primers {
                let t = e.tokens[i]
                lines.append("\(quoted(t.text)) primes the label word \(quoted(t.nearestLabelWord)) (cosine \(String(format: "%.2f", t.labelAffinity.max()!))), and removing it costs \(cost(losses[i])).")
            }
        }
        let free = e.tokens.indices.filter { losses[$0] <= 0 }
        if !free.isEmpty {
            lines.append("\(free.map { quoted(e.tokens[$0].text) }.joined(separator: ", ")) can be dropped at no cost in accuracy, one at a time.")
        }
        // A learned token that a plain function word beats is a place where the search stopped short: say so, with the
        // replacement's accuracy, so a reader can try it (iPOE's step from an explanation to an edit).
        let beaten = e.tokens.indices.filter { e.tokens[$0].accuracyNeutral - e.accuracy >= carrying }
            .sorted { e.tokens[$0].accuracyNeutral > e.tokens[$1].accuracyNeutral }
        for i in beaten {
            let t = e.tokens[i]
            // A token whose text occurs more than once in the prompt is named by its position too.
            let name = e.tokens.filter { $0.text == t.text }.count > 1 ? "\(quoted(t.text)) (token \(i + 1))" : quoted(t.text)
            lines.append("Replacing \(name) by the function word \(quoted(t.neutral)) raises accuracy to \(percent(t.accuracyNeutral)) (\(points(t.accuracyNeutral - e.accuracy))): the learned token does worse than a plain word there.")
        }
        if let sub = e.subPrompt, sub.ids.count < e.tokens.count {
            lines.append("\(sub.ids.count) of the \(e.tokens.count) tokens, \(quoted(sub.text)), keep \(Int((100 * sub.gainKept).rounded()))% of the gain (\(percent(sub.accuracy))): the shortest sub-prompt greedy removal found that keeps 90%.")
        } else if e.subPrompt != nil {
            lines.append("No token can be removed while keeping 90% of the gain: every token takes part.")
        }
        if let shifted = e.classes.max(by: { abs($0.withPrompt - $0.withoutPrompt) < abs($1.withPrompt - $1.withoutPrompt) }),
           abs(shifted.withPrompt - shifted.withoutPrompt) >= 0.1 {
            lines.append("The prompt moves predictions \(shifted.withPrompt > shifted.withoutPrompt ? "toward" : "away from") \(quoted(shifted.label)): \(percent(shifted.withoutPrompt)) of the examples without it, \(percent(shifted.withPrompt)) with it.")
        }
        if let t = e.transfer {
            let verdict = t.accuracyText > t.accuracyEmpty ? "it still helps there" : "it does not help there"
            lines.append("Typed as text on \(t.model), the prompt reaches \(percent(t.accuracyText)) against \(percent(t.accuracyEmpty)) with no prompt (\(percent(t.accuracyTextHere)) as text here): \(verdict).")
        }
        return lines
    }

    static func percent(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
    static func points(_ x: Double) -> String { String(format: "%+.1f points", 100 * x) }
    /// An accuracy loss as a positive number of points.
    static func cost(_ x: Double) -> String { String(format: "%.1f points", 100 * x) }
    static func quoted(_ text: String) -> String { String(reflecting: text) }
}
