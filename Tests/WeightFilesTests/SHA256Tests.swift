// SHA-256 against FIPS 180-4's published examples, across the one- and two-block padding cases.
import Foundation
import Testing
import WeightFiles

@Suite struct SHA256Tests {
    func digest(_ text: String) -> String { Array(text.utf8).withUnsafeBytes { SHA256.hexDigest(of: $0) } }

    @Test func knownAnswers() {
        #expect(digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(digest(String(repeating: "a", count: 1_000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test func fileDigestMatchesBytes() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("legible-sha-\(UUID().uuidString)")
        try Data("abc".utf8).write(to: url)
        #expect(try SHA256.hexDigest(ofFile: url.path) == digest("abc"))
    }
}
