import ModelManagerCore
import Testing

@Suite struct UUIDTextTests {
    @Test func randomUUIDsAreVersion4InLowercaseText() {
        let ids = (0..<1000).map { _ in UUIDText.random() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let characters = Array(id)
            #expect(characters.count == 36)
            #expect([8, 13, 18, 23].allSatisfy { characters[$0] == "-" })
            #expect(characters[14] == "4")
            #expect("89ab".contains(characters[19]))
            #expect(id.allSatisfy { "0123456789abcdef-".contains($0) })
        }
    }

    @Test func theTextIsTheBitsInOrder() {
        #expect(
            UUIDText.format(0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210) == "01234567-89ab-cdef-fedc-ba9876543210")
    }
}
