// One HTML page per explanation and per edit analysis, in the sweep report's style: readable offline (no scripts,
// fonts or links outside it) and well-formed XML, so the tests can parse it. The prompt's tokens are shaded by what
// removing each costs: red where it costs accuracy, blue where removing it helps.
import Explanations
import Foundation

public enum ExplanationPage {
    static let style = """
    body { font-family: Helvetica, Arial, sans-serif; margin: 2em; color: #222222; max-width: 1100px; }
    table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 13px; }
    th, td { border: 1px solid #cccccc; padding: 3px 7px; text-align: right; }
    th { background: #f3f3f3; }
    td.text { text-align: left; }
    .prompt span { font-family: monospace; font-size: 18px; padding: 2px 1px; white-space: pre; border-radius: 3px; }
    .bar { display: inline-block; height: 10px; }
    """

    static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
        <head>
        <meta charset="utf-8"/>
        <title>\(TextEscaping.xml(title))</title>
        <style>
        \(style)
        </style>
        </head>
        <body>
        \(body)</body>
        </html>

        """
    }

    /// Red for a token whose removal costs accuracy, blue for one whose removal helps; full colour at 10 points.
    static func shade(_ loss: Double) -> String {
        let strength = min(abs(loss) / 0.1, 1)
        let fade = { (full: Double) in Int((255 - (255 - full) * strength).rounded()) }
        return loss >= 0 ? "rgb(255,\(fade(120)),\(fade(120)))" : "rgb(\(fade(120)),\(fade(160)),255)"
    }

    static func bar(_ share: Double, colour: String) -> String {
        "<span class=\"bar\" style=\"width: \(Int((200 * share).rounded()))px; background: \(colour)\"></span>"
    }

    public static func html(_ x: PromptExplanation) -> String {
        let e = TextEscaping.xml
        let pct = { (v: Double) in String(format: "%.1f%%", 100 * v) }
        let num = { (v: Double) in String(format: "%+.3f", v) }
        var body = "<h1>Why the prompt works: \(e(x.task)) \(e(x.split))</h1>\n"
        body += "<p>Template <code>\(e(x.template))</code>, \(x.examples) test examples. Accuracy \(pct(x.accuracy)) (no prompt \(pct(x.accuracyEmpty))); "
            + "mean label margin \(num(x.margin)) (no prompt \(num(x.marginEmpty))). Each token is shaded by what removing it costs in accuracy.</p>\n"
        body += "<p class=\"prompt\">" + x.tokens.map { t in
            "<span style=\"background: \(shade(x.accuracy - t.accuracyWithout))\" title=\"without it: \(pct(t.accuracyWithout))\">\(e(t.text))</span>"
        }.joined() + "</p>\n"
        body += "<h2>Guidelines</h2>\n<ul>\n" + x.guidelines.map { "<li>\(e($0))</li>\n" }.joined() + "</ul>\n"
        body += "<h2>Tokens</h2>\n<table>\n<thead><tr><th>token</th><th>accuracy without</th><th>margin without</th><th>neutral word</th>"
            + "<th>accuracy with it</th><th>saliency</th><th>nearest label word</th><th>cosine</th></tr></thead>\n<tbody>\n"
        for t in x.tokens {
            body += "<tr><td class=\"text\"><code>\(e(String(reflecting: t.text)))</code></td><td>\(pct(t.accuracyWithout))</td><td>\(num(t.marginWithout))</td>"
                + "<td class=\"text\"><code>\(e(String(reflecting: t.neutral)))</code></td><td>\(pct(t.accuracyNeutral))</td>"
                + "<td>\(String(format: "%+.4f", t.saliency))</td><td class=\"text\"><code>\(e(String(reflecting: t.nearestLabelWord)))</code></td>"
                + "<td>\(String(format: "%.2f", t.labelAffinity.max() ?? 0))</td></tr>\n"
        }
        body += "</tbody>\n</table>\n<h2>Predicted classes</h2>\n<table>\n<thead><tr><th>class</th><th>with the prompt</th><th></th><th>without</th><th></th></tr></thead>\n<tbody>\n"
        for c in x.classes {
            body += "<tr><td class=\"text\">\(e(c.label))</td><td>\(pct(c.withPrompt))</td><td class=\"text\">\(bar(c.withPrompt, colour: "#4878cf"))</td>"
                + "<td>\(pct(c.withoutPrompt))</td><td class=\"text\">\(bar(c.withoutPrompt, colour: "#aaaaaa"))</td></tr>\n"
        }
        body += "</tbody>\n</table>\n"
        for (title, flips) in [("Fixed by the prompt", x.fixed), ("Broken by the prompt", x.broken)] where !flips.isEmpty {
            body += "<h2>\(title)</h2>\n<table>\n<thead><tr><th>label</th><th>without</th><th>with</th><th>text</th></tr></thead>\n<tbody>\n"
            body += flips.map { "<tr><td class=\"text\">\(e($0.label))</td><td class=\"text\">\(e($0.predictedWithout))</td><td class=\"text\">\(e($0.predictedWith))</td><td class=\"text\">\(e($0.text))</td></tr>\n" }.joined()
            body += "</tbody>\n</table>\n"
        }
        if let s = x.subPrompt {
            body += "<h2>Shortest sub-prompt keeping 90% of the gain</h2>\n<p><code>\(e(String(reflecting: s.text)))</code>: \(s.ids.count) of \(x.tokens.count) tokens, "
                + "\(pct(s.accuracy)), \(Int((100 * s.gainKept).rounded()))% of the gain.</p>\n"
        }
        if let t = x.transfer {
            body += "<h2>Transfer</h2>\n<p>As text: \(pct(t.accuracyTextHere)) here; on \(e(t.model)) \(pct(t.accuracyText)) (no prompt \(pct(t.accuracyEmpty))).</p>\n"
        }
        return page(title: "Explanation: \(x.task) \(x.split)", body: body)
    }

    public static func html(_ a: EditAnalysis) -> String {
        let e = TextEscaping.xml
        func table(_ families: [EditFamilySummary]) -> String {
            var out = "<table>\n<thead><tr><th>family</th><th>edits</th><th>mean Δ task loss</th><th>mean Δ log-perplexity (edits measured)</th><th>raised dev accuracy</th></tr></thead>\n<tbody>\n"
            for f in families {
                let raised = f.raisedDevAccuracy.map { String(format: "%.1f%% of %d", 100 * $0, f.evaluated) } ?? "—"
                out += "<tr><td class=\"text\">\(e(f.name))</td><td>\(f.count)</td><td>\(String(format: "%+.4f", f.meanDeltaTaskLoss))</td>"
                    + "<td>\(f.meanDeltaLogPerplexity.map { String(format: "%+.4f (%d)", $0, f.logPerplexityMeasured) } ?? "—")</td><td>\(raised)</td></tr>\n"
            }
            return out + "</tbody>\n</table>\n"
        }
        var body = "<h1>Edit families</h1>\n<p>\(a.edits) accepted edits from \(a.runs) run\(a.runs == 1 ? "" : "s"). Observational: the search chose these edits, so a family's numbers describe its choices, not what such an edit would do anywhere.</p>\n"
        body += table(a.families)
        for g in a.groups { body += "<h2>\(e(g.task)), \(e(g.method)): \(g.edits) edits</h2>\n" + table(g.families) }
        return page(title: "Edit families", body: body)
    }
}
