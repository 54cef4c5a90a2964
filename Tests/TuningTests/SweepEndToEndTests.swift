// `legible sweep plan/run/report` through the executable on the tiny model: a 2×2 grid (pez, soft × λ 0, 0.5)
// run in two shards, reported after each, and the messages a user gets for a changed or wrong configuration.
import Foundation
import Reports
import Runs
import Sweeps
import Tasks
import Testing

@Suite(.serialized) struct SweepEndToEndTests {
    let model: URL
    let data: URL
    let folder = temporaryFolder("sweep-e2e")

    init() throws {
        model = try Tiny.modelDirectory(Tiny.model())
        data = try Tiny.dataRoot()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func config(_ name: String, steps: Int = 3, splits: String = #"["16-100"]"#, extra: String = "") throws -> String {
        let url = folder.appendingPathComponent(name)
        try """
        {"model": "\(model.path)", "methods": ["pez", "soft"], "scrutability": [0, 0.5], "data": "\(data.path)",
         "splits": \(splits), "prompt_lengths": [4], "seeds": [1], "steps": \(steps), "batch": 6, "lr": 0.01, "eval_every": 3\(extra)}
        """.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func planRunInShardsAndReport() throws {
        let sweep = folder.appendingPathComponent("grid").path
        let planned = try legible(["sweep", "plan", try config("grid.json"), "--out", sweep])
        #expect(planned.status == 0, "\(planned.error)")
        #expect(planned.output.contains("planned 4 runs") && planned.output.contains("0003  runs/0003-soft-sst-2-16-100-l0.5-g0-n4-s1"))
        let again = try legible(["sweep", "plan", try config("grid.json"), "--out", sweep])
        #expect(again.status == 0 && again.output.contains("already holds this plan"), "\(again.error)")
        let changed = try legible(["sweep", "plan", try config("longer.json", steps: 4), "--out", sweep])
        #expect(changed.status != 0 && changed.error.contains("different configuration") && changed.error.contains("steps"), "\(changed.error)")

        let first = try legible(["sweep", "run", sweep, "--shard", "0/2", "--threads", "1"])
        #expect(first.status == 0, "\(first.error)")
        #expect(first.error.contains("[1/2] 0000 pez") && first.error.contains("[2/2] 0002 soft") && first.error.contains("finished 0002"))
        let runs = URL(fileURLWithPath: sweep).appendingPathComponent("runs")
        let reports = { try FileManager.default.contentsOfDirectory(atPath: runs.path).sorted()
            .filter { FileManager.default.fileExists(atPath: runs.appendingPathComponent($0).appendingPathComponent("report.json").path) } }
        #expect(try reports().map { String($0.prefix(4)) } == ["0000", "0002"])

        let partial = try legible(["sweep", "report", sweep])
        #expect(partial.status == 0 && partial.output.contains("2 of 4 runs finished"), "\(partial.error)")
        let csvFile = URL(fileURLWithPath: sweep).appendingPathComponent("report/runs.csv")
        #expect(parseCSV(try String(contentsOf: csvFile, encoding: .utf8)).count == 3)

        let second = try legible(["sweep", "run", sweep, "--shard", "1/2"])
        #expect(second.status == 0, "\(second.error)")
        #expect(second.output.contains("2 runs finished now, 0 earlier, 0 failed"))
        let rest = try legible(["sweep", "run", sweep])
        #expect(rest.status == 0 && rest.output.contains("nothing to do"), "\(rest.error)")
        #expect(try reports().count == 4)

        let full = try legible(["sweep", "report", sweep])
        #expect(full.status == 0 && full.output.contains("4 of 4 runs finished") && full.output.contains("Pareto front"), "\(full.error)")
        let report = URL(fileURLWithPath: sweep).appendingPathComponent("report")
        let csv = parseCSV(try String(contentsOf: csvFile, encoding: .utf8))
        #expect(csv.count == 5 && csv.dropFirst().map { $0[0] } == ["0000", "0001", "0002", "0003"])
        for name in ["accuracy-vs-log-ppl.svg", "accuracy-vs-kl.svg"] {
            let xml = XMLSummary.parse(try String(contentsOf: report.appendingPathComponent(name), encoding: .utf8))
            #expect(xml.error == nil && xml.pointRuns.sorted() == ["0000", "0001", "0002", "0003"], "\(name)")
        }
        let page = XMLSummary.parse(try String(contentsOf: report.appendingPathComponent("index.html"), encoding: .utf8))
        #expect(page.error == nil && page.elements["svg"] == 4)
        for line in csv.dropFirst() {
            let runReport = try JSONDecoder().decode(RunReport.self, from: Data(contentsOf: URL(fileURLWithPath: sweep).appendingPathComponent(line[1]).appendingPathComponent("report.json")))
            #expect(line.last == runReport.prompt.text)
            #expect(page.text.contains(runReport.prompt.text))
        }
        #expect(FileManager.default.fileExists(atPath: report.appendingPathComponent("runs.md").path))
    }

    /// Ctrl-C (SIGINT) and a polite stop (SIGTERM: scancel, a Slurm time limit, `kill`) both stop after a step,
    /// exiting as the shell reports a process stopped by that signal (128 + its number).
    @Test(arguments: [SIGINT, SIGTERM])
    func aStopSignalEndsAfterAStepAndTheNextRunResumes(signal: Int32) throws {
        let name = signal == SIGINT ? "interrupted" : "terminated"
        let sweep = folder.appendingPathComponent(name).path
        #expect(try legible(["sweep", "plan", try config("\(name).json", steps: 30), "--out", sweep]).status == 0)
        // The executable `legible(_:)` runs, started here so that it can be sent the signal mid-run.
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let executable = testBinary.deletingLastPathComponent().appendingPathComponent("legible")
        try #require(FileManager.default.isExecutableFile(atPath: executable.path))
        let log = folder.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = ["sweep", "run", sweep]
        process.environment = testEnvironment()
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !(try String(contentsOf: log, encoding: .utf8)).contains("step 3/30") {
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        let stopped = try String(contentsOf: log, encoding: .utf8)
        #expect(process.terminationReason == .exit && process.terminationStatus == 128 + signal, "\(stopped)")
        #expect(stopped.contains("stopped; run `legible sweep run"))
        let plan = try SweepDirectory(URL(fileURLWithPath: sweep)).loadPlan()
        guard case .interrupted(let step) = SweepDirectory(URL(fileURLWithPath: sweep)).status(of: plan.runs[0]) else {
            Issue.record("run 0000 is not interrupted: \(stopped)"); return
        }
        #expect(step >= 3 && step < 30)

        let resumed = try legible(["sweep", "run", sweep, "--shard", "0/4"])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.error.contains("0000 pez") && resumed.error.contains("resuming at step \(step) of 30"))
        #expect(SweepDirectory(URL(fileURLWithPath: sweep)).status(of: plan.runs[0]) == .finished)
    }

    @Test func aBFloat16SweepRunsEveryRunInBFloat16() throws {
        let sweep = folder.appendingPathComponent("bf16").path
        #expect(try legible(["sweep", "plan", try config("bf16.json", steps: 2, extra: #", "precision": "bf16""#), "--out", sweep]).status == 0)
        let ran = try legible(["sweep", "run", sweep, "--shard", "0/2"])
        #expect(ran.status == 0, "\(ran.error)")
        #expect(ran.error.contains("bf16 products"), "\(ran.error)")
        let plan = try SweepDirectory(URL(fileURLWithPath: sweep)).loadPlan()
        for run in plan.runs where run.index % 2 == 0 {
            let settings = URL(fileURLWithPath: sweep).appendingPathComponent(run.directory).appendingPathComponent("run.json")
            let recorded = try JSONSerialization.jsonObject(with: Data(contentsOf: settings)) as? [String: Any]
            #expect(recorded?["precision"] as? String == "bf16", "\(run.id)")
        }
    }

    @Test func badInputFailsWithAMessage() throws {
        let unknown = try legible(["sweep", "plan", try config("typo.json", extra: #", "stepz": 3"#), "--out", folder.appendingPathComponent("typo").path])
        #expect(unknown.status != 0 && unknown.error.contains("unknown key 'stepz'"), "\(unknown.error)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("typo").path))
        let split = try legible(["sweep", "plan", try config("split.json", splits: #"["16-100", "16-7"]"#),
                                 "--out", folder.appendingPathComponent("split").path])
        #expect(split.status != 0 && split.error.contains("16-7 not found"), "\(split.error)")
        let noPlan = try legible(["sweep", "run", folder.appendingPathComponent("nothing").path])
        #expect(noPlan.status != 0 && noPlan.error.contains("holds no sweep plan"), "\(noPlan.error)")
        let sweep = folder.appendingPathComponent("shard").path
        #expect(try legible(["sweep", "plan", try config("shard.json"), "--out", sweep]).status == 0)
        let shard = try legible(["sweep", "run", sweep, "--shard", "2/2"])
        #expect(shard.status != 0 && shard.error.contains("i/n"), "\(shard.error)")
    }
}
