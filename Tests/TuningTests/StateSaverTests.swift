// When a run's state reaches state.json: the first step always, later steps only when saving is cheap next to
// the time since the last save, and whatever is unsaved when the run stops.
import Foundation
@testable import Runs
@testable import Sweeps
@testable import Tasks
import Testing
import Tuning
@testable import Reports

struct StateSaverTests {
    func savedStep(_ directory: RunDirectory) throws -> Int? {
        guard FileManager.default.fileExists(atPath: directory.state.path) else { return nil }
        return try JSONDecoder().decode(TuningState.self, from: Data(contentsOf: directory.state)).step
    }

    @Test func savesWhenDueAndFlushesWhatIsLeft() throws {
        let directory = RunDirectory(temporaryFolder("state-saver"))
        let configuration = Tiny.configuration(.pez, steps: 3)
        let settings = RunSettings(model: "tiny", modelSHA256: "0", task: "sst-2", split: "16-100", data: "data",
                                   template: TaskTemplate.pez, verbalizers: ["bad", "good"], configuration: configuration)
        #expect(try directory.open(settings, resume: false) == nil)
        let tuner = try PromptTuner(model: Tiny.model(), tokenizer: Tiny.tokenizer, data: Tiny.task().tuningData,
                                    configuration: configuration)

        // A share so small that, once a save has taken any time at all, no later step is due.
        var saver = StateSaver(directory: directory, costShare: 1e-12)
        var built = 0
        func state() -> TuningState { built += 1; return tuner.state }
        for _ in 1...3 {
            try directory.append(try tuner.step())
            try saver.stepFinished(state())
        }
        #expect(try savedStep(directory) == 1)
        #expect(built == 1, "a state not written is not built")

        // A crash now: resuming starts after step 1 and drops the log lines of steps 2 and 3.
        #expect(try directory.open(settings, resume: true)?.step == 1)
        #expect(try String(contentsOf: directory.log, encoding: .utf8).split(separator: "\n").count == 1)

        // Stopping instead writes what is unsaved, once.
        try saver.flush(state())
        #expect(try savedStep(directory) == 3)
        try FileManager.default.removeItem(at: directory.state)
        try saver.flush(state())
        #expect(try savedStep(directory) == nil)
    }
}
