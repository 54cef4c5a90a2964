// `legible summary RUN…`: one line per finished run, to compare prompts side by side.
import ArgumentParser
import Foundation
import Reports
import Runs
import Sweeps
import Tasks

struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare finished runs: each run's prompt, its accuracy as typed text against the best zero-shot baseline, and its readability.",
        discussion: """
        Reads RUN/report.json of each run folder (as `legible tune --out RUN` writes it). "readable" applies the bar
        of the README: log-perplexity ≤ 7 nats per token, ≥ 60% whole words, ≥ 70% distinct tokens, no odd tokens;
        "goal met" adds accuracy: readable and at least 8 points above the best zero-shot baseline as typed text.
        """)

    @Argument(help: ArgumentHelp("Run folders.", valueName: "run")) var runs: [String]

    func run() throws {
        let goal = ReadableGoal()
        // A folder without a report (a run still going, a typo) is named and skipped, so one unfinished run of a
        // sweep does not hide the others; the exit status says that something was skipped.
        var skipped: [String] = []
        for path in runs {
            let file = URL(fileURLWithPath: path).appendingPathComponent("report.json")
            guard let data = FileManager.default.contents(atPath: file.path) else {
                Console().line("legible: no report.json in '\(path)': not a finished run folder (legible tune --out); skipped")
                skipped.append(path)
                continue
            }
            let r: RunReport
            do { r = try JSONDecoder().decode(RunReport.self, from: data) } catch {
                Console().line("legible: '\(file.path)' is not a Legible report (\(error.localizedDescription)); skipped")
                skipped.append(path)
                continue
            }
            let zeroShot = ReadableGoal.bestZeroShot(r), gain = ReadableGoal.gainAsText(r)
            let missed = goal.misses(r.scrutability)
            let method = r.method.padding(toLength: max(8, r.method.count), withPad: " ", startingAt: 0)
            let numbers = String(format: "text %5.1f%% (%+5.1f over zero-shot %.1f%%)  log-ppl %5.2f  words %.2f  distinct %.2f  odd %d",
                                 100 * r.test.accuracyText, 100 * gain, 100 * zeroShot,
                                 r.scrutability.logPerplexity, r.scrutability.wordRatio, r.scrutability.distinctRatio, r.scrutability.oddTokens)
            let verdict: String
            switch goal.verdict(r) {
            case .met: verdict = "readable, goal met"
            case .readable: verdict = "readable"
            case .notReadable: verdict = "not readable (\(missed.joined(separator: ", ")))"
            }
            print("\(method) \(numbers)  \(verdict)  \(String(reflecting: r.prompt.text))")
        }
        if !skipped.isEmpty { throw ExitCode(1) }
    }
}
