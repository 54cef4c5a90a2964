// Nearest-token projection against a brute-force search, for every metric, with excluded ids.
import Foundation
import Testing
import Kernels
import Models
import TestSupport
import Tokenizers
@testable import Tuning

@Suite struct ProjectionTests {
    @Test(arguments: ProjectionMetric.allCases)
    func nearestTokensMatchBruteForce(metric: ProjectionMetric) throws {
        let model = Tiny.model()
        let (V, C) = (model.vocabularySize, model.width)
        var allowed = [Bool](repeating: true, count: V)
        for v in stride(from: 0, to: V, by: 3) { allowed[v] = false }
        let projector = VocabularyProjector(model: model, metric: metric, allowed: allowed)
        let prompt = PromptEmbeddings(length: 3, width: C, values: randomArray(3 * C, seed: 9, scale: 0.03))
        let E = model.tokenEmbeddings
        for i in 0..<3 {
            let p = prompt.row(i).map(Double.init)
            var best = (id: -1, score: -Double.infinity)
            for v in 0..<V where allowed[v] {
                let e = (0..<C).map { Double(E[v * C + $0]) }
                let dot = zip(p, e).reduce(0) { $0 + $1.0 * $1.1 }
                let score: Double
                switch metric {
                case .cosine: score = dot / (p.reduce(0) { $0 + $1 * $1 }.squareRoot() * e.reduce(0) { $0 + $1 * $1 }.squareRoot())
                case .dot: score = dot
                case .l2: score = -zip(p, e).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                }
                if score > best.score { best = (v, score) }
            }
            let nearest = projector.nearest(prompt)[i]
            #expect(Int(nearest.id) == best.id)
            #expect(abs(Double(nearest.score) - best.score) < 1e-4 * max(1, abs(best.score)))
            #expect(allowed[Int(nearest.id)])
        }
    }

    @Test func neighboursAreSortedAndExactRowsProjectToThemselves() throws {
        let model = Tiny.model()
        let projector = VocabularyProjector(model: model, allowed: [Bool](repeating: true, count: model.vocabularySize))
        let ids: [Int32] = [464, 1049, 50000]
        let prompt = try projector.embeddings(of: ids)
        #expect(projector.nearest(prompt).map(\.id) == ids)
        for row in projector.neighbours(prompt, count: 4) {
            #expect(row.count == 4)
            #expect(zip(row, row.dropFirst()).allSatisfy { $0.score >= $1.score })
        }
    }

    @Test func specialTokensAreNeverAllowed() {
        let allowed = TokenFilter().allowed(tokenizer: Tiny.tokenizer, vocabularySize: 50257)
        #expect(!allowed[50256])
        let strict = TokenFilter(excludeNonASCII: true, excludeNonWords: true, excludeUnstable: true)
            .allowed(tokenizer: Tiny.tokenizer, vocabularySize: 50257)
        #expect(strict[Int(Tiny.tokenizer.encode(" great")[0])])
        #expect(!strict[Int(Tiny.tokenizer.encode(",")[0])])          // not a word
        #expect(!strict[Int(Tiny.tokenizer.encode("é")[0])])          // not ASCII
        #expect(strict.filter { $0 }.count < allowed.filter { $0 }.count)
    }

    @Test("control tokens and unused slots of a GGUF byte-level vocabulary (Qwen2's kind) are never allowed")
    func ggufControlTokensAreNeverAllowed() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenizer = try GGUFTokenizer.load(TinyGGUF.byteLevelTokenizer().write(in: directory))
        let allowed = TokenFilter().allowed(tokenizer: tokenizer, vocabularySize: tokenizer.vocabularySize)
        #expect(allowed[259])  // "hello"
        #expect(!allowed[261] && !allowed[262])  // <|endoftext|>, <|im_start|>: control
        #expect(!allowed[263])  // <tool_call>: user-defined, and markup
        #expect(!allowed[264])  // [PAD264]: unused
    }

    @Test func markupTagsAreNeverAllowed() {
        for tag in ["<start_of_image>", "<td>", " </div>"] { #expect(TokenFilter.isMarkup(tag), "\(tag)") }
        for text in ["<", " <>", "<3", "a <b> c", " great", "<<", "->"] { #expect(!TokenFilter.isMarkup(text), "\(text)") }
    }
}
