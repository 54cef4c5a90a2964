// A sweep's folder: plan.json (the expanded grid), runs/<id>-…/ (one `tune` run directory per run) and
// report/ (written by `legible sweep report`). Shards on other machines write into the same folder.
import Foundation
import Runs
import Tasks
import Tuning

/// Where a run of the plan stands on disk.
public enum SweepRunStatus: Equatable, Sendable {
    case notStarted
    /// Stopped after `step` steps; the next `sweep run` resumes it.
    case interrupted(step: Int)
    /// The last attempt failed with this message (the next `sweep run` tries again).
    case failed(String)
    case finished
}

/// A finished run with its report.
public struct SweepResult: Sendable {
    public var run: SweepRun
    public var report: RunReport
    public init(run: SweepRun, report: RunReport) { self.run = run; self.report = report }
}

public struct SweepDirectory {
    public let url: URL
    public var planFile: URL { url.appendingPathComponent("plan.json") }
    public var reportFolder: URL { url.appendingPathComponent("report") }

    public init(_ url: URL) { self.url = url }

    public func run(_ run: SweepRun) -> RunDirectory { RunDirectory(url.appendingPathComponent(run.directory)) }

    /// Where a run's last failure is kept until it finishes.
    public func errorFile(_ run: SweepRun) -> URL { url.appendingPathComponent(run.directory).appendingPathComponent("error.txt") }

    /// Writes the plan atomically and returns true; returns false when the folder already holds the same plan;
    /// refuses a plan made from a different configuration, since its run ids would mean other runs.
    @discardableResult
    public func create(_ plan: SweepPlan) throws -> Bool {
        if FileManager.default.fileExists(atPath: planFile.path) {
            let existing = try loadPlan()
            let keys = existing.configuration.differences(from: plan.configuration)
            if !keys.isEmpty || existing.runs != plan.runs { throw SweepError.planDiffers(url.path, keys: keys.isEmpty ? ["runs"] : keys) }
            return false
        }
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try JSONEncoder.prettySorted.encode(plan).write(to: planFile, options: .atomic)
        return true
    }

    public func loadPlan() throws -> SweepPlan {
        guard let data = FileManager.default.contents(atPath: planFile.path) else { throw SweepError.noPlan(url.path) }
        do {
            return try JSONDecoder().decode(SweepPlan.self, from: data)
        } catch let error as DecodingError {
            throw SweepError.unreadable(planFile.path, reason: "\(error.keyPath): \(error.reason)")
        } catch let error as SweepError {
            throw SweepError.unreadable(planFile.path, reason: error.description)
        }
    }

    public func status(of run: SweepRun) -> SweepRunStatus {
        let directory = self.run(run)
        let manager = FileManager.default
        if manager.fileExists(atPath: directory.report.path) { return .finished }
        if let message = try? String(contentsOf: errorFile(run), encoding: .utf8) { return .failed(message) }
        if let data = manager.contents(atPath: directory.state.path) {
            struct Step: Decodable { var step: Int }
            return .interrupted(step: (try? JSONDecoder().decode(Step.self, from: data).step) ?? 0)
        }
        return .notStarted
    }

    /// The finished runs of the plan, in plan order. A report.json that cannot be read counts as unfinished.
    public func results(_ plan: SweepPlan) -> [SweepResult] {
        plan.runs.compactMap { run in
            guard let data = FileManager.default.contents(atPath: self.run(run).report.path),
                  let report = try? JSONDecoder().decode(RunReport.self, from: data) else { return nil }
            return SweepResult(run: run, report: report)
        }
    }
}
