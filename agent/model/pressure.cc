#include "agent/model/pressure.h"

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace redline {

std::vector<PressureStats> ParsePressure(absl::string_view resource,
                                         absl::string_view text) {
  std::vector<PressureStats> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> f =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.empty() || (f[0] != "some" && f[0] != "full")) continue;
    for (absl::string_view kv : f) {
      uint64_t total;
      if (absl::ConsumePrefix(&kv, "total=") && absl::SimpleAtoi(kv, &total)) {
        out.push_back({std::string(resource), std::string(f[0]), total});
      }
    }
  }
  return out;
}

std::vector<PressureStats> ReadPressure(const std::string& dir) {
  std::vector<PressureStats> out;
  for (const char* r : {"cpu", "io", "memory"}) {
    std::ifstream in(dir + "/" + r);
    if (!in) continue;
    std::stringstream ss;
    ss << in.rdbuf();
    for (PressureStats& p : ParsePressure(r, ss.str())) {
      out.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace redline
