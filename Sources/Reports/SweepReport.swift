// What a sweep measured so far: its finished runs, groups over split seeds and seeds with mean ± standard
// deviation, and the Pareto fronts of accuracy vs log-perplexity and accuracy vs KL; as CSV and Markdown.
// The plots are in SweepReportCharts.swift, the HTML page and the report folder in SweepReportPage.swift.
import Foundation
import Runs
import Sweeps
import Tuning

/// Which test accuracy the plots and fronts use (the tables show all three).
public enum SweepAccuracy: String, CaseIterable, Sendable {
    /// With the projected prompt's token embeddings: the same tokens whose log-perplexity is measured.
    case projected
    /// With the prompt's text typed into the template and re-tokenized.
    case text
    /// With the continuous prompt itself.
    case soft

    public var key: String {
        switch self {
        case .projected: return "accuracy_projected"
        case .text: return "accuracy_text"
        case .soft: return "accuracy"
        }
    }

    public var title: String {
        switch self {
        case .projected: return "accuracy (projected)"
        case .text: return "accuracy (text)"
        case .soft: return "accuracy (soft)"
        }
    }

    public func value(_ report: RunReport) -> Double? {
        switch self {
        case .projected: return report.test.accuracyProjected
        case .text: return report.test.accuracyText
        case .soft: return report.test.accuracy
        }
    }
}

/// A number a report gives for every run.
public struct SweepMetric: Sendable {
    /// The CSV column and report.json name.
    public let key: String
    public let title: String
    public let value: @Sendable (RunReport) -> Double?

    public static let accuracyProjected = SweepMetric(key: "accuracy_projected", title: "acc. projected") { $0.test.accuracyProjected }
    public static let accuracyText = SweepMetric(key: "accuracy_text", title: "acc. text") { $0.test.accuracyText }
    public static let accuracySoft = SweepMetric(key: "accuracy", title: "acc. soft") { $0.test.accuracy }
    public static let logPerplexity = SweepMetric(key: "log_ppl", title: "log-ppl") { $0.scrutability.logPerplexity }
    public static let kl = SweepMetric(key: "kl", title: "KL") { $0.faithfulness.kl }
    public static let agreement = SweepMetric(key: "agreement", title: "agreement") { $0.faithfulness.agreement }
    public static let cosine = SweepMetric(key: "cosine", title: "cosine") { $0.faithfulness.cosineToNearest }
    public static let wordRatio = SweepMetric(key: "word_ratio", title: "word ratio") { $0.scrutability.wordRatio }
    /// Test accuracy as typed text minus the best zero-shot baseline of the run (no prompt or the manual prompt).
    public static let textGain = SweepMetric(key: "text_gain", title: "text − zero-shot") { ReadableGoal.gainAsText($0) }

    /// The columns of the run and group tables.
    public static let summary: [SweepMetric] = [accuracyProjected, accuracyText, accuracySoft, logPerplexity, kl, agreement, cosine, wordRatio, textGain]
}

/// Count, mean, sample standard deviation (nil for one value), minimum and maximum of the finite values.
public struct SweepStatistics: Sendable, Equatable {
    public var count: Int
    public var mean: Double
    public var standardDeviation: Double?
    public var min: Double
    public var max: Double

    public init?(_ values: [Double]) {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return nil }
        count = finite.count
        mean = finite.reduce(0, +) / Double(count)
        let m = mean
        standardDeviation = count > 1 ? (finite.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(count - 1)).squareRoot() : nil
        min = low; max = high
    }
}

/// Runs that differ only in split and seed.
public struct SweepGroupKey: Hashable, Sendable {
    public var task: String
    public var method: TuningMethod
    public var scrutability: Float
    public var faithfulness: Float
    public var promptLength: Int

    public init(_ run: SweepRun) {
        task = run.task; method = run.method; scrutability = run.scrutability; faithfulness = run.faithfulness
        promptLength = run.promptLength
    }
}

public struct SweepGroup: Sendable {
    public var key: SweepGroupKey
    public var results: [SweepResult]

    public func statistics(_ value: (RunReport) -> Double?) -> SweepStatistics? {
        SweepStatistics(results.compactMap { value($0.report) })
    }

    /// How many of the group's runs clear the readability bar, and how many meet the whole goal (`ReadableGoal`).
    public func goalCounts(_ goal: ReadableGoal = ReadableGoal()) -> (readable: Int, met: Int) {
        (results.count { goal.isReadable($0.report) }, results.count { goal.isMet($0.report) })
    }
}

public struct SweepReport: Sendable {
    public var name: String
    public var plan: SweepPlan
    /// Finished runs in plan order.
    public var results: [SweepResult]
    /// The runs without a report, with where they stand.
    public var pending: [(run: SweepRun, status: SweepRunStatus)]
    public var accuracy: SweepAccuracy

    public init(name: String, plan: SweepPlan, results: [SweepResult], pending: [(run: SweepRun, status: SweepRunStatus)] = [],
                accuracy: SweepAccuracy = .projected) {
        self.name = name; self.plan = plan; self.results = results; self.pending = pending; self.accuracy = accuracy
    }

    /// Reads the plan and whatever runs have finished.
    public init(loading sweep: SweepDirectory, accuracy: SweepAccuracy = .projected) throws {
        let plan = try sweep.loadPlan()
        let results = sweep.results(plan)
        let done = Set(results.map(\.run.index))
        self.init(name: sweep.url.standardizedFileURL.lastPathComponent, plan: plan, results: results,
                  pending: plan.runs.filter { !done.contains($0.index) }.map { ($0, sweep.status(of: $0)) }, accuracy: accuracy)
    }

    /// Groups in the order their first run appears in the plan.
    public var groups: [SweepGroup] {
        var order: [SweepGroupKey] = []
        var members: [SweepGroupKey: [SweepResult]] = [:]
        for result in results {
            let key = SweepGroupKey(result.run)
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(result)
        }
        return order.map { SweepGroup(key: $0, results: members[$0]!) }
    }

    /// The tasks with finished runs, in plan order.
    public var tasks: [String] { plan.configuration.tasks.filter { task in results.contains { $0.run.task == task } } }

    /// Indices into `results` on the front of accuracy (maximized) vs log-perplexity (minimized), within each task.
    public var perplexityFront: [Int] { front { ($0.scrutability.logPerplexity, $1) } }

    /// Indices into `results` on the front of accuracy (maximized) vs KL(soft ‖ projected) (minimized), within each task.
    public var klFront: [Int] { front { ($0.faithfulness.kl, $1) } }

    /// Per task: x from `axis` (minimized) against the chosen accuracy (maximized); ordered by task, then x.
    func front(_ axis: (RunReport, Double) -> (Double, Double)) -> [Int] {
        tasks.flatMap { task -> [Int] in
            let members = results.indices.filter { results[$0].run.task == task }
            let points = members.map { i -> (x: Double, y: Double) in
                axis(results[i].report, accuracy.value(results[i].report) ?? .nan)
            }
            return ParetoFront.indices(of: points, x: .minimize, y: .maximize).map { members[$0] }
        }
    }

    // MARK: CSV

    /// One row per finished run, every number at full precision.
    public func runsCSV() -> String {
        let (ppl, kl) = (Set(perplexityFront), Set(klFront))
        var lines = [["id", "directory", "method", "task", "split", "scrutability", "faithfulness", "prompt_length", "seed", "steps",
                      "best_step", "dev_accuracy", "accuracy_projected", "accuracy_text", "accuracy", "log_ppl", "kl", "agreement",
                      "accuracy_gap", "cosine", "word_ratio", "distinct_ratio", "odd_tokens", "test_examples", "seconds",
                      "zero_shot_empty", "zero_shot_manual", "text_gain", "readable", "goal_met", "front_log_ppl", "front_kl",
                      "prompt"].joined(separator: ",")]
        let goal = ReadableGoal()
        for (i, result) in results.enumerated() {
            let (run, r) = (result.run, result.report)
            let fields: [String] = [
                run.id, run.directory, run.method.rawValue, run.task, run.split, SweepRun.format(run.scrutability), SweepRun.format(run.faithfulness),
                "\(run.promptLength)", "\(run.seed)", "\(r.steps)", r.bestStep.map { "\($0)" } ?? "", number(r.devAccuracy),
                number(r.test.accuracyProjected), number(r.test.accuracyText), number(r.test.accuracy),
                number(r.scrutability.logPerplexity), number(r.faithfulness.kl), number(r.faithfulness.agreement),
                number(r.faithfulness.accuracyGap), number(r.faithfulness.cosineToNearest), number(r.scrutability.wordRatio),
                number(r.scrutability.distinctRatio), "\(r.scrutability.oddTokens)", "\(r.test.examples)", number(r.timing.seconds),
                number(r.zeroShot.accuracyEmpty), number(r.zeroShot.accuracyManual),
                number(ReadableGoal.gainAsText(r)), goal.isReadable(r) ? "1" : "0", goal.isMet(r) ? "1" : "0",
                ppl.contains(i) ? "1" : "0", kl.contains(i) ? "1" : "0", r.prompt.text,
            ]
            lines.append(fields.map(TextEscaping.csv).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// One row per group: runs, then mean, sd, min and max of each summary metric.
    public func groupsCSV() -> String {
        var header = ["task", "method", "scrutability", "faithfulness", "prompt_length", "runs"]
        for metric in SweepMetric.summary { header += ["mean", "sd", "min", "max"].map { "\(metric.key)_\($0)" } }
        header += ["readable_runs", "goal_met_runs"]
        var lines = [header.joined(separator: ",")]
        for group in groups {
            var fields = [group.key.task, group.key.method.rawValue, SweepRun.format(group.key.scrutability), SweepRun.format(group.key.faithfulness),
                          "\(group.key.promptLength)", "\(group.results.count)"]
            for metric in SweepMetric.summary {
                let s = group.statistics(metric.value)
                fields += [number(s?.mean), number(s?.standardDeviation), number(s?.min), number(s?.max)]
            }
            let counts = group.goalCounts()
            fields += ["\(counts.readable)", "\(counts.met)"]
            lines.append(fields.map(TextEscaping.csv).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    private func number(_ x: Double?) -> String { x.map { $0.isFinite ? "\($0)" : "" } ?? "" }

    // MARK: Tables (Markdown here, HTML in SweepReportPage.swift)

    /// A table as plain cells; `prompt` marks the column holding prompt text.
    public struct Table: Sendable {
        public var headers: [String]
        public var rows: [[String]]
        public var promptColumn: Int?

        public func markdown() -> String {
            guard !rows.isEmpty else { return "(none)\n" }
            let line = { (cells: [String]) in "| " + cells.map(TextEscaping.markdown).joined(separator: " | ") + " |" }
            return ([line(headers), "|" + String(repeating: " --- |", count: headers.count)] + rows.map(line)).joined(separator: "\n") + "\n"
        }
    }

    static func fixed(_ x: Double?, _ decimals: Int = 3) -> String {
        guard let x, x.isFinite else { return "—" }
        return String(format: "%.\(decimals)f", x)
    }

    static func meanSD(_ s: SweepStatistics?) -> String {
        guard let s else { return "—" }
        return fixed(s.mean) + (s.standardDeviation.map { " ± " + fixed($0) } ?? "")
    }

    /// A prompt as shown in tables: quoted, so leading and trailing spaces stay visible.
    static func quoted(_ text: String) -> String { "\u{201C}" + text + "\u{201D}" }

    public var runsTable: Table {
        let (ppl, kl) = (Set(perplexityFront), Set(klFront))
        let goal = ReadableGoal()
        let headers = ["№", "method", "task", "split", "λ", "γ", "n", "seed"] + SweepMetric.summary.map(\.title) + ["goal", "front", "prompt"]
        let rows = results.enumerated().map { i, result -> [String] in
            let run = result.run
            let fronts = [ppl.contains(i) ? "ppl" : nil, kl.contains(i) ? "KL" : nil].compactMap { $0 }.joined(separator: ", ")
            let verdict: String
            switch goal.verdict(result.report) {
            case .met: verdict = "met"
            case .readable: verdict = "readable"
            case .notReadable: verdict = ""
            }
            return ["\(run.index)", run.method.rawValue, run.task, run.split, SweepRun.format(run.scrutability), SweepRun.format(run.faithfulness),
                    "\(run.promptLength)", "\(run.seed)"] + SweepMetric.summary.map { Self.fixed($0.value(result.report)) }
                + [verdict, fronts, Self.quoted(result.report.prompt.text)]
        }
        return Table(headers: headers, rows: rows, promptColumn: headers.count - 1)
    }

    public var groupsTable: Table {
        let headers = ["task", "method", "λ", "γ", "n", "runs"] + SweepMetric.summary.map(\.title) + ["readable", "goal met"]
        let rows = groups.map { group -> [String] in
            let counts = group.goalCounts()
            return [group.key.task, group.key.method.rawValue, SweepRun.format(group.key.scrutability), SweepRun.format(group.key.faithfulness),
                    "\(group.key.promptLength)", "\(group.results.count)"] + SweepMetric.summary.map { Self.meanSD(group.statistics($0.value)) }
                + ["\(counts.readable)/\(group.results.count)", "\(counts.met)/\(group.results.count)"]
        }
        return Table(headers: headers, rows: rows, promptColumn: nil)
    }

    /// The runs on a front, with the front's two objectives.
    public func frontTable(_ indices: [Int], axis: SweepMetric) -> Table {
        let headers = ["№", "method", "task", "split", "λ", "γ", "n", "seed", accuracy.title, axis.title, "prompt"]
        let rows = indices.map { i -> [String] in
            let (run, r) = (results[i].run, results[i].report)
            return ["\(run.index)", run.method.rawValue, run.task, run.split, SweepRun.format(run.scrutability), SweepRun.format(run.faithfulness),
                    "\(run.promptLength)", "\(run.seed)", Self.fixed(accuracy.value(r)), Self.fixed(axis.value(r)), Self.quoted(r.prompt.text)]
        }
        return Table(headers: headers, rows: rows, promptColumn: headers.count - 1)
    }

    public var pendingTable: Table {
        let rows = pending.map { run, status -> [String] in
            let text: String
            switch status {
            case .notStarted: text = "not started"
            case .interrupted(let step): text = "stopped at step \(step) of \(run.tuning.steps)"
            case .failed(let message): text = "failed: " + message.trimmingCharacters(in: .whitespacesAndNewlines)
            case .finished: text = "report.json unreadable"
            }
            return ["\(run.index)", run.directory, text]
        }
        return Table(headers: ["№", "directory", "status"], rows: rows, promptColumn: nil)
    }

    /// One sentence on what the sweep holds.
    public var summary: String {
        let c = plan.configuration
        return "\(results.count) of \(plan.runs.count) runs finished; model \(c.model); tasks \(c.tasks.joined(separator: ", ")); "
            + "\(c.steps) steps; plots and fronts use \(accuracy.title) on the test set (№ is the run number)."
    }

    /// What the goal columns count, from the thresholds `ReadableGoal` applies.
    public static var goalSentence: String {
        let goal = ReadableGoal()
        return "\"text − zero-shot\": test accuracy as typed text minus the better zero-shot baseline (no prompt, manual "
            + "prompt). \"readable\": \(goal.barDescription). \"goal met\": \(goal.goalDescription)."
    }

    public func markdown() -> String {
        var text = "# Sweep \(TextEscaping.markdown(name))\n\n\(TextEscaping.markdown(summary))\n\n"
        text += "## Groups: mean ± standard deviation over split seeds and seeds\n\n" + groupsTable.markdown()
        text += "\n" + Self.goalSentence + "\n"
        text += "\n## Pareto front: \(accuracy.title) vs log-perplexity\n\n" + frontTable(perplexityFront, axis: .logPerplexity).markdown()
        text += "\n## Pareto front: \(accuracy.title) vs KL(soft ‖ projected)\n\n" + frontTable(klFront, axis: .kl).markdown()
        text += "\n## Runs\n\n" + runsTable.markdown()
        if !pending.isEmpty { text += "\n## Not finished\n\n" + pendingTable.markdown() }
        return text
    }
}
