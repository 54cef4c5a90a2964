// The report folder of a sweep: runs.csv, groups.csv, runs.md, one SVG per plot and index.html, which holds
// the plots inline, the tables and the prompts, and reads offline (no scripts, fonts or links outside it).
// The page is well-formed XML as well as HTML, so the tests can parse it.
import Foundation
import Runs
import Sweeps

extension SweepReport.Table {
    public func html() -> String {
        guard !rows.isEmpty else { return "<p>(none)</p>\n" }
        let e = TextEscaping.xml
        var out = "<table>\n<thead><tr>" + headers.map { "<th>\(e($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for row in rows {
            out += "<tr>" + row.enumerated().map { column, cell in
                column == promptColumn ? "<td class=\"prompt\"><code>\(e(cell))</code></td>"
                    : column == 0 ? "<td class=\"id\">\(e(cell))</td>" : "<td>\(e(cell))</td>"
            }.joined() + "</tr>\n"
        }
        return out + "</tbody>\n</table>\n"
    }
}

extension SweepReport {
    public func html() -> String {
        let e = TextEscaping.xml
        let charts = self.charts
        let chart = { (prefix: String) -> String in
            charts.filter { $0.file.hasPrefix(prefix) }.map { "<figure>\n\($0.chart.render())<figcaption><a href=\"\(e($0.file))\">\(e($0.file))</a></figcaption></figure>\n" }.joined()
        }
        var page = """
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
        <head>
        <meta charset="utf-8"/>
        <title>Sweep \(e(name))</title>
        <style>
        body { font-family: Helvetica, Arial, sans-serif; margin: 2em; color: #222222; max-width: 1400px; }
        table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 13px; }
        th, td { border: 1px solid #cccccc; padding: 3px 7px; text-align: right; }
        th { background: #f3f3f3; }
        td.prompt { text-align: left; white-space: pre-wrap; }
        td.id { font-weight: bold; }
        figure { display: inline-block; margin: 0 1em 1em 0; }
        figcaption { font-size: 12px; color: #666666; }
        </style>
        </head>
        <body>
        <h1>Sweep \(e(name))</h1>
        <p>\(e(summary)) Hover over a point for its run and prompt; the run table below lists every prompt by number.
        Files: <a href="runs.csv">runs.csv</a>, <a href="groups.csv">groups.csv</a>, <a href="runs.md">runs.md</a>.</p>

        """
        page += "<h2>Accuracy vs readability</h2>\n" + chart("accuracy-vs-log-ppl")
        page += "<h3>Pareto front: \(e(accuracy.title)) (higher) vs log-perplexity (lower)</h3>\n"
        page += frontTable(perplexityFront, axis: .logPerplexity).html()
        page += "<h2>Against λ</h2>\n<p>Mean over split seeds and seeds; bars from the lowest to the highest run.</p>\n"
        page += chart("accuracy-vs-lambda") + chart("log-ppl-vs-lambda")
        page += "<h2>Accuracy vs faithfulness</h2>\n" + chart("accuracy-vs-kl")
        page += "<h3>Pareto front: \(e(accuracy.title)) (higher) vs KL(soft ‖ projected) (lower)</h3>\n"
        page += frontTable(klFront, axis: .kl).html()
        page += "<h2>Groups: mean ± standard deviation over split seeds and seeds</h2>\n" + groupsTable.html()
        page += "<p>\(e(Self.goalSentence))</p>\n"
        page += "<h2>Runs and their prompts</h2>\n" + runsTable.html()
        if !pending.isEmpty { page += "<h2>Not finished</h2>\n" + pendingTable.html() }
        return page + "</body>\n</html>\n"
    }

    /// Writes the report folder (replacing the files it writes, atomically each) and returns the files written.
    @discardableResult
    public func write(to folder: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var files: [(String, String)] = [("runs.csv", runsCSV()), ("groups.csv", groupsCSV()), ("runs.md", markdown())]
        files += charts.map { ($0.file, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + $0.chart.render()) }
        files.append(("index.html", html()))
        return try files.map { name, text in
            let url = folder.appendingPathComponent(name)
            try Data(text.utf8).write(to: url, options: .atomic)
            return url
        }
    }
}
