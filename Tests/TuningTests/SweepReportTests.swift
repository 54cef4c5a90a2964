// Sweep reports: the Pareto front on hand-made points, escaping, statistics, and the report's files — SVG
// and index.html parse as XML, with one point per run, and prompts survive every format unchanged.
import Foundation
import FoundationXML
@testable import Runs
@testable import Sweeps
@testable import Tasks
import Testing
import Tuning
#if canImport(FoundationXML)
#endif
@testable import Reports

/// Counts elements and collects text of an XML document; `error` is set when it is not well-formed.
final class XMLSummary: NSObject, XMLParserDelegate {
    var elements: [String: Int] = [:]
    var pointRuns: [String] = []
    var titles: [String] = []
    var text = ""
    private var inTitle = false
    private var title = ""
    var error: Error?

    static func parse(_ document: String) -> XMLSummary {
        let summary = XMLSummary()
        let parser = XMLParser(data: Data(document.utf8))
        parser.delegate = summary
        if !parser.parse() { summary.error = parser.parserError ?? CocoaError(.coderReadCorrupt) }
        return summary
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements[name, default: 0] += 1
        if name == "g", attributes["class"] == "point" { pointRuns.append(attributes["data-run"] ?? "") }
        if name == "title" { inTitle = true; title = "" }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "title" { inTitle = false; titles.append(title) }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        text += string
        if inTitle { title += string }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }
}

/// Reads RFC 4180 CSV: quoted fields may hold commas, quotes (doubled) and line breaks.
func parseCSV(_ text: String) -> [[String]] {
    var rows: [[String]] = [], row: [String] = [], field = ""
    var quoted = false, wasQuoted = false
    var scalars = Array(text.unicodeScalars)[...]
    while let c = scalars.popFirst() {
        if quoted {
            if c == "\"" {
                if scalars.first == "\"" { field.unicodeScalars.append("\""); scalars.removeFirst() } else { quoted = false }
            } else { field.unicodeScalars.append(c) }
        } else if c == "\"" {
            quoted = true; wasQuoted = true
        } else if c == "," {
            row.append(field); field = ""; wasQuoted = false
        } else if c == "\r" || c == "\n" {
            if c == "\r", scalars.first == "\n" { scalars.removeFirst() }
            row.append(field); rows.append(row); row = []; field = ""; wasQuoted = false
        } else { field.unicodeScalars.append(c) }
    }
    if !field.isEmpty || wasQuoted || !row.isEmpty { row.append(field); rows.append(row) }
    return rows
}

/// Prompts that break naive escaping.
let awkwardPrompts = [
    " great <b>movie</b> & \"film\"", "it's | a * _test_ `x` [link](y) $1", "tab\there\nnewline\r\nend",
    "ctrl\u{01}\u{1F}char", " 😀 naïve Ελληνικά עברית 中文 ", "]]> <!-- --> &amp; &#0;", ",comma,\"quote\"", "",
]

func fakeReport(_ run: SweepRun, accuracy: Double, logPPL: Double, kl: Double, prompt: String) -> RunReport {
    RunReport(method: run.method.rawValue, model: "tiny", task: run.task, split: run.split, template: TaskTemplate.pez,
              verbalizers: [" terrible", " great"], steps: run.tuning.steps, bestStep: run.tuning.steps, devAccuracy: 0.5,
              prompt: .init(ids: [1, 2], text: prompt, tokens: ["a", "b"]),
              test: .init(accuracy: accuracy + 0.05, accuracyProjected: accuracy, accuracyText: accuracy - 0.01, examples: 100),
              zeroShot: .init(accuracyEmpty: 0.5, accuracyManual: 0.6, manualPrompt: "Overall, the movie was", manualLogPerplexity: 4.35),
              faithfulness: .init(kl: kl, agreement: 0.9, accuracyGap: 0.05, cosineToNearest: 0.3),
              scrutability: .init(logPerplexity: logPPL, distinctRatio: 1, wordRatio: 0.5, oddTokens: 0),
              timing: .init(seconds: 1, stepsPerSecond: 10, evaluationSeconds: 1))
}

struct SweepReportTests {
    @Test func paretoFrontOnHandMadePoints() {
        // x: log-perplexity (minimized), y: accuracy (maximized).
        let points: [(x: Double, y: Double)] = [
            (1, 0.5), (2, 0.7), (2, 0.6), (3, 0.7), (2, 0.7), (0.5, 0.4), (4, 0.9), (.nan, 1.0), (5, 0.9), (6, 0.2), (.infinity, 0.95),
        ]
        // (2, 0.6) and (3, 0.7) lose to (2, 0.7); (5, 0.9) ties (4, 0.9) in accuracy and loses in x; both copies of
        // (2, 0.7) stay; non-finite points never count.
        #expect(ParetoFront.indices(of: points, x: .minimize, y: .maximize) == [5, 0, 1, 4, 6])
        #expect(ParetoFront.indices(of: points, x: .maximize, y: .maximize) == [8, 9])
        #expect(ParetoFront.indices(of: points, x: .minimize, y: .minimize) == [5, 9])
        #expect(ParetoFront.indices(of: [], x: .minimize, y: .maximize).isEmpty)
        #expect(ParetoFront.indices(of: [(1, 1)], x: .minimize, y: .maximize) == [0])
        #expect(ParetoFront.indices(of: [(1, 1), (1, 1), (1, 1)], x: .minimize, y: .maximize) == [0, 1, 2])
        // Tied in x: only the best y; tied in y: only the best x.
        #expect(ParetoFront.indices(of: [(1, 0.2), (1, 0.8), (1, 0.5)], x: .minimize, y: .maximize) == [1])
        #expect(ParetoFront.indices(of: [(3, 0.8), (1, 0.8), (2, 0.8)], x: .minimize, y: .maximize) == [1])

        let stairs = ParetoFront.staircase([(1, 0.5), (2, 0.7), (4, 0.9)], x: .minimize, y: .maximize)
        #expect(stairs.map(\.x) == [1, 2, 2, 4, 4] && stairs.map(\.y) == [0.5, 0.5, 0.7, 0.7, 0.9])
        #expect(ParetoFront.staircase([], x: .minimize, y: .maximize).isEmpty)
    }

    @Test func escaping() {
        #expect(TextEscaping.xml("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;")
        #expect(TextEscaping.xml("x\u{01}y\u{FFFF}") == "x\\u{1}y\\u{FFFF}")
        #expect(TextEscaping.xml("t\tn\n") == "t&#9;n&#10;")
        #expect(TextEscaping.csv("plain") == "plain")
        #expect(TextEscaping.csv("a,\"b\"") == "\"a,\"\"b\"\"\"")
        #expect(TextEscaping.csv(" lead") == "\" lead\"")
        #expect(TextEscaping.csv("-0.5") == "-0.5")
        #expect(TextEscaping.markdown("a|b*c\nd") == "a\\|b\\*c\\\\nd")
        for prompt in awkwardPrompts {
            #expect(parseCSV(TextEscaping.csv(prompt) + "\r\n") == [[prompt]])
            #expect(!TextEscaping.markdown(prompt).contains("\n") && !TextEscaping.markdown(prompt).contains(" | "))
        }
    }

    @Test func statistics() throws {
        let s = try #require(SweepStatistics([0.6, 0.8, .nan]))
        #expect(s.count == 2 && abs(s.mean - 0.7) < 1e-12 && abs(s.standardDeviation! - 0.02.squareRoot()) < 1e-12)
        #expect(s.min == 0.6 && s.max == 0.8)
        #expect(SweepStatistics([0.5])?.standardDeviation == nil)
        #expect(SweepStatistics([]) == nil)
    }

    /// 2 methods × 3 λ × 2 splits = 12 runs, 11 finished with awkward prompts.
    func makeReport() throws -> SweepReport {
        let plan = try SweepPlan(sweepConfiguration("""
            {"model": "m", "methods": ["pez", "soft"], "scrutability": [0, 0.5, 1], "splits": ["16-100", "16-13"], "steps": 10}
            """))
        let results = plan.runs.dropLast().map { run -> SweepResult in
            let accuracy = 0.9 - 0.1 * Double(run.scrutability) - (run.method == .soft ? 0.05 : 0) + (run.split == "16-13" ? 0.02 : 0)
            let report = fakeReport(run, accuracy: accuracy, logPPL: 8 - 4 * Double(run.scrutability) + Double(run.index % 2),
                                    kl: 0.1 * Double(run.index), prompt: awkwardPrompts[run.index % awkwardPrompts.count])
            return SweepResult(run: run, report: report)
        }
        return SweepReport(name: "test <sweep>", plan: plan, results: Array(results), pending: [(plan.runs[11], .interrupted(step: 4))])
    }

    @Test func groupsAverageOverSplitSeeds() throws {
        let report = try makeReport()
        let groups = report.groups
        #expect(groups.count == 6)
        #expect(groups.map(\.results.count) == [2, 2, 2, 2, 2, 1])
        let first = try #require(groups[0].statistics(SweepMetric.accuracyProjected.value))
        #expect(groups[0].key.method == .pez && groups[0].key.scrutability == 0)
        #expect(abs(first.mean - 0.91) < 1e-9 && abs(first.standardDeviation! - 0.02 / 2.squareRoot()) < 1e-9)
        #expect(report.groupsTable.rows[0][6] == "0.910 ± 0.014")
        #expect(report.groupsTable.rows[5][5] == "1" && !report.groupsTable.rows[5][6].contains("±"))

        let csv = parseCSV(report.groupsCSV())
        #expect(csv.count == 7 && csv[0].contains("accuracy_projected_mean") && csv[0].contains("word_ratio_sd"))
    }

    @Test func groupsCountTheRunsThatAreReadableAndMeetTheGoal() throws {
        let plan = try SweepPlan(sweepConfiguration("""
            {"model": "m", "methods": ["gcg"], "scrutability": [0.1, 1], "splits": ["16-100", "16-13"], "steps": 10}
            """))
        // The fake reports' best zero-shot is the manual prompt's 0.6; text accuracy is `accuracy` − 0.01.
        // λ 0.1: readable at +8.0 exactly (met), and at 7.5 log-ppl with +30 (not readable).
        // λ 1: readable at +7.0 (readable only), and readable at +30 (met).
        let cases: [(accuracy: Double, logPPL: Double)] = [(0.69, 5), (0.69, 5), (0.91, 7.5), (0.91, 5)]
        let results = plan.runs.map { run -> SweepResult in
            let c = cases[run.index]
            var report = fakeReport(run, accuracy: c.accuracy, logPPL: c.logPPL, kl: 0, prompt: "p")
            report.scrutability.wordRatio = 0.8
            if run.index == 1 { report.test.accuracyText = 0.67 }
            return SweepResult(run: run, report: report)
        }
        // Plan order is λ-major: 0 = (0.1, 16-100), 1 = (0.1, 16-13), 2 = (1, 16-100), 3 = (1, 16-13).
        let report = SweepReport(name: "goal", plan: plan, results: results)
        #expect(report.groups.map { $0.goalCounts().readable } == [2, 1])
        #expect(report.groups.map { $0.goalCounts().met } == [1, 1])
        let table = report.groupsTable
        #expect(Array(table.headers.suffix(3)) == ["text − zero-shot", "readable", "goal met"])
        #expect(table.rows.map { Array($0.suffix(2)) } == [["2/2", "1/2"], ["1/2", "1/2"]])
        #expect(table.rows[0][table.headers.count - 3] == "0.075 ± 0.007")  // +8 and +7 points
        let goalColumn = try #require(report.runsTable.headers.firstIndex(of: "goal"))
        #expect(report.runsTable.rows.map { $0[goalColumn] } == ["met", "readable", "", "met"])
        let csv = parseCSV(report.runsCSV())
        let met = try #require(csv[0].firstIndex(of: "goal_met")), readable = try #require(csv[0].firstIndex(of: "readable"))
        #expect(csv.dropFirst().map { $0[met] } == ["1", "0", "0", "1"] && csv.dropFirst().map { $0[readable] } == ["1", "1", "0", "1"])
        let empty = try #require(csv[0].firstIndex(of: "zero_shot_empty")), manual = try #require(csv[0].firstIndex(of: "zero_shot_manual"))
        #expect(csv.dropFirst().allSatisfy { $0[empty] == "0.5" && $0[manual] == "0.6" })
        let groups = parseCSV(report.groupsCSV())
        #expect(Array(groups[0].suffix(2)) == ["readable_runs", "goal_met_runs"] && Array(groups[1].suffix(2)) == ["2", "1"])
        #expect(report.markdown().contains(SweepReport.goalSentence))
    }

    @Test func filesAreWellFormedWithOnePointPerRun() throws {
        let report = try makeReport()
        let results = report.results
        let folder = temporaryFolder("sweep-report")
        let files = try report.write(to: folder).map(\.lastPathComponent)
        #expect(Set(files) == ["runs.csv", "groups.csv", "runs.md", "accuracy-vs-log-ppl.svg", "accuracy-vs-lambda.svg",
                               "log-ppl-vs-lambda.svg", "accuracy-vs-kl.svg", "index.html"])

        for name in ["accuracy-vs-log-ppl.svg", "accuracy-vs-kl.svg"] {
            let svg = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            let xml = XMLSummary.parse(svg)
            #expect(xml.error == nil, "\(name): \(String(describing: xml.error))")
            #expect(xml.elements["svg"] == 1)
            #expect(xml.pointRuns.sorted() == results.map(\.run.id), "\(name)")
            #expect(xml.elements["polyline"] == 1, "\(name): the front")
            // Every prompt comes back unchanged from its point's tooltip (control characters shown as \u{…}).
            for result in results {
                let prompt = result.report.prompt.text.replacingOccurrences(of: "\u{01}", with: "\\u{1}").replacingOccurrences(of: "\u{1F}", with: "\\u{1F}")
                #expect(xml.titles.contains { $0.hasPrefix("№\(result.run.index) ") && $0.hasSuffix("\u{201C}\(prompt)\u{201D}") }, "\(name): \(prompt)")
            }
            // Axes carry ticks and labels; the legend names both methods.
            #expect(xml.text.contains("log-perplexity") || xml.text.contains("KL"))
            #expect(xml.text.contains("accuracy (projected)") && xml.text.contains("pez") && xml.text.contains("soft"))
            // Readability's references: no prompt and the manual prompt, beside the runs (not counted among them).
            let isPerplexity = name.contains("log-ppl")
            #expect(svg.contains("class=\"reference\"") == isPerplexity && xml.text.contains("manual prompt") == isPerplexity, "\(name)")
        }
        for name in ["accuracy-vs-lambda.svg", "log-ppl-vs-lambda.svg"] {
            let xml = XMLSummary.parse(try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8))
            #expect(xml.error == nil, "\(name): \(String(describing: xml.error))")
            #expect(xml.pointRuns.count == 6, "\(name): a point per method and λ")
            #expect(xml.elements["polyline"] == 2, "\(name): a line per method")
            #expect(xml.text.contains("0.5") && xml.text.contains("λ"))
        }

        let html = try String(contentsOf: folder.appendingPathComponent("index.html"), encoding: .utf8)
        // Nothing outside the page: the only URLs are the XML namespace names.
        let outside = html.replacingOccurrences(of: "http://www.w3.org/", with: "")
        #expect(!outside.contains("http") && !outside.contains("src=") && !outside.contains("<script"))
        let page = XMLSummary.parse(html)
        #expect(page.error == nil, "index.html: \(String(describing: page.error))")
        #expect(page.elements["svg"] == 4)
        #expect(page.text.contains("test <sweep>") && page.text.contains("Not finished") && page.text.contains("stopped at step 4 of 10"))
        for prompt in awkwardPrompts where !prompt.contains("\u{01}") {
            #expect(page.text.contains("\u{201C}\(prompt)\u{201D}"), "\(prompt)")
        }

        let csv = parseCSV(try String(contentsOf: folder.appendingPathComponent("runs.csv"), encoding: .utf8))
        #expect(csv.count == 1 + results.count)
        let header = csv[0]
        let promptColumn = try #require(header.firstIndex(of: "prompt"))
        let idColumn = try #require(header.firstIndex(of: "id"))
        #expect(csv.dropFirst().allSatisfy { $0.count == header.count })
        #expect(csv.dropFirst().map { $0[promptColumn] } == results.map(\.report.prompt.text))
        #expect(csv.dropFirst().map { $0[idColumn] } == results.map(\.run.id))
        let frontColumn = try #require(header.firstIndex(of: "front_log_ppl"))
        #expect(csv.dropFirst().filter { $0[frontColumn] == "1" }.count == report.perplexityFront.count)

        let markdown = try String(contentsOf: folder.appendingPathComponent("runs.md"), encoding: .utf8)
        let runRows = markdown.components(separatedBy: "## Runs")[1].components(separatedBy: "## Not finished")[0]
            .split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| --- ") }
        #expect(runRows.count == 1 + results.count)
        // Escaped pipes keep every row at the header's column count.
        let cells = { (row: Substring) in row.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count }
        #expect(runRows.allSatisfy { cells($0) == cells(runRows[0]) })
    }

    @Test func frontsArePerTaskAndUseTheChosenAccuracy() throws {
        var report = try makeReport()
        let front = report.perplexityFront
        let points = report.results.map { (x: $0.report.scrutability.logPerplexity, y: $0.report.test.accuracyProjected) }
        #expect(front == ParetoFront.indices(of: points, x: .minimize, y: .maximize))
        report.accuracy = .soft
        let soft = report.results.map { (x: $0.report.faithfulness.kl, y: $0.report.test.accuracy!) }
        #expect(report.klFront == ParetoFront.indices(of: soft, x: .minimize, y: .maximize))
        #expect(report.charts.map(\.chart.yLabel).contains("accuracy (soft)"))
    }

    @Test func emptySweepStillWritesAReport() throws {
        let plan = try SweepPlan(sweepConfiguration(#"{"model": "m", "scrutability": [0, 1]}"#))
        let report = SweepReport(name: "empty", plan: plan, results: [], pending: plan.runs.map { ($0, .notStarted) })
        let folder = temporaryFolder("sweep-empty")
        try report.write(to: folder)
        let page = XMLSummary.parse(try String(contentsOf: folder.appendingPathComponent("index.html"), encoding: .utf8))
        #expect(page.error == nil && page.text.contains("0 of 2 runs finished"))
        #expect(parseCSV(try String(contentsOf: folder.appendingPathComponent("runs.csv"), encoding: .utf8)).count == 1)
    }
}
