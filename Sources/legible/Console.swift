// Progress on standard error: a live line on a terminal, plain lines otherwise (logs, CI).
import Foundation
import Tuning

final class Console {
    let isTerminal = isatty(FileHandle.standardError.fileDescriptor) != 0
    private var lastPlain = Date.distantPast

    func line(_ text: String) {
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + text + "\n").utf8))
    }

    func status(_ text: String) {
        guard isTerminal else {
            if !text.isEmpty { line(text) }
            return
        }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
    }

    func progress(_ record: StepRecord, total: Int) {
        let rate = Double(record.step) / max(record.seconds, 1e-9)
        let eta = Double(total - record.step) / max(rate, 1e-9)
        var text = String(format: "step %d/%d  loss %.4f", record.step, total, record.loss)
        if let reward = record.reward { text += String(format: "  reward %.2f (gap %.1f, acc %.2f)", reward.total, reward.gap, record.batchAccuracy) }
        if let dev = record.devAccuracy { text += String(format: "  dev %.3f", dev) }
        if let best = record.bestDevAccuracy { text += String(format: " (best %.3f)", best) }
        text += String(format: "  %.2f steps/s  ETA %@", rate, Self.duration(eta))
        text += "  " + String(reflecting: record.bestText ?? record.text)
        // On a terminal the line updates in place; in a log, one line per evaluation.
        if isTerminal {
            status(String(text.prefix(200)))
        } else if record.devAccuracy != nil || record.step == total {
            line(text)
        }
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}
