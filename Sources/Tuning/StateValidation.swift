// A state.json read back for --resume is checked against the run it continues before anything uses it: a state
// edited by hand, cut short or written for other options must stop with a sentence, not an index out of range.

extension TuningState {
    public func validate(configuration c: TuningConfiguration, width C: Int, vocabularySize V: Int) throws {
        func require(_ ok: Bool, _ reason: @autoclosure () -> String) throws {
            if !ok { throw TuningError.invalidState(reason()) }
        }
        let n = c.promptLength
        let isToken = { (id: Int32) in id >= 0 && Int(id) < V }
        try require(step >= 0, "step \(step) is negative")
        try require(step <= TuningConfiguration.stepLimit, "step \(step) is past the \(TuningConfiguration.stepLimit) steps a run may take")
        try require(seconds.isFinite && seconds >= 0, "seconds \(seconds) is not a duration")
        try require(prompt.count == n * C, "the prompt holds \(prompt.count) numbers; \(n) tokens × width \(C) need \(n * C)")
        try require(prompt.allSatisfy(\.isFinite), "the prompt holds a number that is not finite")
        // The optimizer's moments are the prompt's (soft, PEZ) or the policy network's (RLPrompt); empty before its first step.
        let moments = c.method == .rlprompt ? PolicyMLP.parameterCount(width: C, hiddenWidth: c.policy.hiddenWidth) : n * C
        for (name, values) in [("m", optimizer.m), ("v", optimizer.v)] {
            try require(values.isEmpty || values.count == moments, "the optimizer's \(name) holds \(values.count) numbers, not \(moments)")
            try require(values.allSatisfy(\.isFinite), "the optimizer's \(name) holds a number that is not finite")
        }
        try require(optimizer.m.count == optimizer.v.count, "the optimizer's m holds \(optimizer.m.count) numbers and its v \(optimizer.v.count)")
        try require(optimizer.step >= 0, "the optimizer's step is negative")
        // One update per step at most: a count past the run's is a hand-edited or foreign state, and the next update
        // adds one, which would overflow at Int.max.
        try require(optimizer.step <= step, "the optimizer's step \(optimizer.step) is past the \(step) steps taken")
        if let best {
            try require(best.ids.count == n && best.ids.allSatisfy(isToken), "the best prompt's ids are not \(n) tokens of this vocabulary")
            try require(best.values.count == n * C, "the best prompt holds \(best.values.count) numbers, not \(n * C)")
            try require(best.step >= 0 && best.step <= step, "the best prompt's step \(best.step) is not one of the \(step) taken")
        }
        if let ids { try require(ids.count == n && ids.allSatisfy(isToken), "the current prompt's ids are not \(n) tokens of this vocabulary") }
        for prompt in trajectory ?? [] {
            try require(prompt.ids.count == n && prompt.ids.allSatisfy(isToken), "a trajectory prompt's ids are not \(n) tokens of this vocabulary")
        }
        if c.method == .rlprompt {
            let parameters = PolicyMLP.parameterCount(width: C, hiddenWidth: c.policy.hiddenWidth)
            guard let policy else { throw TuningError.invalidState("an rlprompt state without its policy network") }
            for (name, network) in [("policy", policy.online), ("target", policy.target)] {
                try require(network.values.count == parameters, "the \(name) network holds \(network.values.count) parameters, not \(parameters)")
                try require(network.values.allSatisfy(\.isFinite), "the \(name) network holds a number that is not finite")
            }
        }
    }
}
