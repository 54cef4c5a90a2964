// libFuzzer's entry point for programs that have their own main (llvm FuzzerInterface.h): SwiftPM gives every
// executable a main of its own, so the targets start libFuzzer through this rather than through libFuzzer's main.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
