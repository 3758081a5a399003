// Reads conformance-dialect assembler text on stdin, assembles it with the suite's own assembler
// (bpf_conformance's lib/src/bpf_assembler.cc, compiled in by text-conformance-golden.sh) and prints
// one line: the program's bytes as lowercase hex, or "error: <message>".
#include <bpf_assembler.h>

#include <cstdio>
#include <exception>
#include <iostream>
#include <sstream>

int main()
{
    std::stringstream input;
    input << std::cin.rdbuf();
    try {
        auto instructions = bpf_assembler(input);
        for (const auto& instruction : instructions) {
            const auto* bytes = reinterpret_cast<const unsigned char*>(&instruction);
            for (size_t i = 0; i < sizeof(instruction); i++) {
                std::printf("%02x", bytes[i]);
            }
        }
        std::printf("\n");
    } catch (const std::exception& e) {
        std::printf("error: %s\n", e.what());
    }
    return 0;
}
