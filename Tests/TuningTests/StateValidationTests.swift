// A state.json read back for --resume: counts that no run can reach are refused before a tuner steps on them
// (found by fuzzing the resume, Fuzz/Sources/fuzz-state).
import Foundation
import Testing
@testable import Tuning

@Suite struct StateValidationTests {
    /// A PEZ run with 2-token prompts at width 4 over 8 tokens, three steps in.
    var configuration: TuningConfiguration {
        var c = TuningConfiguration(method: .pez)
        c.promptLength = 2
        return c
    }

    func state(step: Int, optimizerStep: Int, m: Int = 8, v: Int = 8) throws -> TuningState {
        let moments = { (count: Int) in
            Data([Float](repeating: 0.01, count: count).flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian) { Array($0) } }).base64EncodedString()
        }
        let json: [String: Any] = [
            "step": step, "seconds": 1.5, "prompt": [Float](repeating: 0.25, count: 8),
            "optimizer": ["learningRate": 0.1, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "weightDecay": 0, "step": optimizerStep,
                          "m": moments(m), "v": moments(v)],
        ]
        return try JSONDecoder().decode(TuningState.self, from: JSONSerialization.data(withJSONObject: json))
    }

    func validate(_ state: TuningState) throws {
        try state.validate(configuration: configuration, width: 4, vocabularySize: 8)
    }

    @Test func aStateARunCouldHaveWrittenIsAccepted() throws {
        try validate(state(step: 3, optimizerStep: 3))
    }

    /// AdamW's bias correction multiplies once per update taken: 10^12 of them hung the resumed run, and Int.max
    /// overflowed on its next update.
    @Test(arguments: [4, 1_000_000_000_000, Int.max])
    func anOptimizerThatSteppedMoreThanTheRunIsRefused(optimizerStep: Int) throws {
        #expect(throws: TuningError.invalidState("the optimizer's step \(optimizerStep) is past the 3 steps taken")) {
            try validate(state(step: 3, optimizerStep: optimizerStep))
        }
    }

    /// Both moments are empty before the first update and full after it: one of each passed the size checks and
    /// AdamW, which starts both afresh only when m is empty, then read v out of range (found by fuzz-state).
    @Test(arguments: [(8, 0), (0, 8)])
    func momentsOfDifferentSizesAreRefused(m: Int, v: Int) throws {
        #expect(throws: TuningError.invalidState("the optimizer's m holds \(m) numbers and its v \(v)")) {
            try validate(state(step: 3, optimizerStep: 3, m: m, v: v))
        }
        try validate(state(step: 3, optimizerStep: 0, m: 0, v: 0))
    }

    @Test func aStepPastAnyRunsLengthIsRefused() throws {
        let step = TuningConfiguration.stepLimit + 1
        #expect(throws: TuningError.invalidState("step \(step) is past the \(TuningConfiguration.stepLimit) steps a run may take")) {
            try validate(state(step: step, optimizerStep: 0))
        }
    }
}
