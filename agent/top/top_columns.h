// The columns of `redline top`, one description each: title, width, the
// row value it shows, how that value is formatted, its JSON key, and the
// thresholds that colour it. Sorting, the text and screen views, colours
// and --json all read this one table: a column is one row here (plus its
// field in TopRow and where BuildTopView fills it).
#ifndef REDLINE_AGENT_TOP_TOP_COLUMNS_H_
#define REDLINE_AGENT_TOP_TOP_COLUMNS_H_

#include <string>
#include <vector>

#include "agent/top/top_model.h"

namespace redline {

struct TopColumnSpec {
  TopColumn id;
  const char* title;
  int width;              // NAME: 0, its width follows the terminal
  double TopRow::*value;  // NAME: nullptr
  enum class Format { kName, kPct, kSeconds, kRate, kBurn } format;
  const char* json_key;            // NAME: "name"
  bool json_null_when_unmeasured;  // a negative value is JSON null
  // 0 fine, 1 worth a look, 2 bad; nullptr: no threshold holds for every
  // workload (blocking syscalls are slow by design, EAGAIN is routine).
  int (*severity)(double v);
};

// In display order, NAME first; indexed by TopColumn.
const std::vector<TopColumnSpec>& TopColumnSpecs();
const TopColumnSpec& TopColumnSpecOf(TopColumn c);
// The cell text of a value column (unpadded).
std::string FormatTopValue(const TopColumnSpec& c, double v);

}  // namespace redline

#endif  // REDLINE_AGENT_TOP_TOP_COLUMNS_H_
