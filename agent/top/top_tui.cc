#include "agent/top/top_tui.h"

#include <ncurses.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "agent/model/histogram.h"
#include "agent/model/history_time.h"
#include "agent/top/top_why.h"

namespace redline {
namespace {

volatile sig_atomic_t g_quit = 0;
bool g_curses = false;

// Every way out puts the terminal back: q, SIGINT/SIGTERM (a flag the loop
// sees within 100 ms), exit() and fatal signals.
void Restore() {
  if (g_curses) {
    g_curses = false;
    endwin();
  }
}
void OnQuit(int) { g_quit = 1; }
void OnFatal(int sig) {
  Restore();
  signal(sig, SIG_DFL);
  raise(sig);
}

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

enum class Screen { kMain, kDetail, kWhy, kHelp };
enum Pair { kRed = 1, kYellow, kHeader };

constexpr const char* kHelp[] = {
    "redline top: per-workload rates and latency over each interval",
    "",
    "  Up/Down PgUp/PgDn Home/End  move",
    "  < > F6                      sort column (descending)",
    "  /                           filter by name (Enter apply, Esc clear)",
    "  g                           group: process, container, pod, unit",
    "  Enter                       drill into the workload",
    "  w                           why: where its threads spent the time",
    "  Esc Backspace               back",
    "  space                       pause / resume",
    "  [ ]                         rewind / forward one agent interval",
    "  t                           rewind to a time (-5m, 14:03, RFC 3339)",
    "  G L                         back to live",
    "                              (rewinding reads the agent's history:",
    "                              --connect only)",
    "  ?                           this help",
    "  q                           quit",
    "",
    "Yellow/red values: CPU% >= 90; RQ_P99 >= 10/50 ms; RERR% >= 1/5;",
    "any TCP retransmit; BURN >= 1x/6x (worst 5-minute burn rate of the",
    "SLOs matching the row).",
    "Columns: - means not measured (probe off) or no events.",
    "NO_COLOR (non-empty) turns colour off: flagged values are bold.",
};

class Ui {
 public:
  Ui(SnapshotSource* src, const TopScreenOptions& opts, TopColumn sort,
     TopGrouping g)
      : src_(src), opts_(opts), sort_(sort), group_(g) {
    filter_ = opts.filter;
  }

  int Loop() {
    double next = 0;
    while (!g_quit) {
      if (!paused_ && Now() >= next) {
        Fetch();
        next = Now() + opts_.delay_s;
      }
      Draw();
      const int ch = getch();
      if (ch != ERR && !Key(ch)) break;
    }
    return 0;
  }

 private:
  void Fetch() {
    auto s = src_->Next();
    if (!s.ok()) {
      error_ = std::string(s.status().message());
      return;
    }
    error_.clear();
    if (have_) {
      prev_ = std::move(cur_);
      cur_ = std::move(*s);
      ready_ = true;
    } else {
      cur_ = std::move(*s);
      have_ = true;
    }
    Rebuild();
  }

  // The interval shown: the live one, or the agent's at the rewound time.
  const Snapshot& Prev() const { return rewound_ ? past_.prev : prev_; }
  const Snapshot& Cur() const { return rewound_ ? past_.cur : cur_; }

  // Shows the agent's interval at unix_ns; an error stays on the status
  // line and the view stays where it was.
  bool Rewind(int64_t unix_ns) {
    auto past = src_->At(unix_ns);
    if (!past.ok()) {
      notice_ = std::string(past.status().message());
      return false;
    }
    past_ = std::move(*past);
    rewound_ = true;
    Rebuild();
    return true;
  }

  void Live() {
    rewound_ = false;
    Rebuild();
  }

  // [ and ]: the entry before (or after) the one shown; ] past the newest
  // is live again.
  void Step(int d) {
    if (!rewound_ && d > 0) return;
    const int64_t shown = Cur().taken_unix_ns;
    if (d < 0) {
      Rewind(shown - 1);
      return;
    }
    const auto step = static_cast<int64_t>(past_.agent_interval_s * 1.5e9);
    const int64_t before = past_.cur.taken_unix_ns;
    if (!Rewind(shown + step) || past_.cur.taken_unix_ns <= before) Live();
  }

  void Rebuild() {
    if (!ready_ && !rewound_) return;
    view_ = BuildTopView(Prev(), Cur(), group_);
    std::erase_if(view_.rows, [&](const TopRow& r) {
      return !filter_.empty() && !absl::StrContains(r.name, filter_);
    });
    SortTopRows(&view_.rows, sort_);
    sel_ = std::clamp(sel_, 0, std::max(0, int(view_.rows.size()) - 1));
  }

  void Put(int y, const std::string& s, attr_t a = A_NORMAL) {
    if (y >= LINES) return;
    attron(a);
    mvaddnstr(y, 0, s.c_str(), COLS);
    attroff(a);
  }

  attr_t Color(Pair p) const { return color_ ? COLOR_PAIR(p) : A_BOLD; }

  // One workload's row, each value past its threshold in colour (bold
  // under NO_COLOR), the selected row reversed.
  void PutRow(int y, const TopRow& r, int name_w, bool selected) {
    if (y >= LINES) return;
    const std::vector<std::string> cells = FormatTopCells(r, name_w);
    int x = 0;
    for (size_t c = 0; c < cells.size() && x < COLS; ++c) {
      const int sev = TopCellSeverity(r, static_cast<TopColumn>(c));
      attr_t a = selected ? A_REVERSE : A_NORMAL;
      if (sev > 0) a |= Color(sev > 1 ? kRed : kYellow);
      const std::string cell = c == 0 ? cells[c] : " " + cells[c];
      attron(a);
      mvaddnstr(y, x, cell.c_str(), COLS - x);
      attroff(a);
      x += static_cast<int>(cell.size());
    }
  }

  void Draw() {
    erase();
    if (screen_ == Screen::kHelp) {
      int y = 0;
      for (const char* l : kHelp) Put(y++, l);
    } else if (!ready_ && !rewound_) {
      Put(0, "redline top: collecting the first interval...");
      if (!error_.empty()) Put(1, error_, Color(kRed));
    } else if (screen_ == Screen::kDetail) {
      DrawDetail();
    } else if (screen_ == Screen::kWhy) {
      DrawWhy();
    } else {
      DrawMain();
    }
    refresh();
  }

  void DrawMain() {
    const std::string summary = FormatTopSummary(view_, group_);
    const size_t nl = summary.find('\n');
    Put(0, summary.substr(0, nl));
    Put(1, summary.substr(nl + 1) + (paused_ ? "  [paused]" : ""));
    const std::string when =
        rewound_ ? absl::StrCat("at ",
                                FormatClock(Cur().taken_unix_ns,
                                            absl::LocalTimeZone()),
                                " (rewound)  ")
        : opts_.history ? "live  "
                        : "";
    std::string status =
        editing_ == Edit::kFilter ? absl::StrCat("filter: ", edit_, "_")
        : editing_ == Edit::kTime
            ? absl::StrCat("rewind to (-5m, 14:03, RFC 3339): ", edit_, "_")
            : absl::StrCat(when, "sort: ", TopColumnTitle(sort_),
                                "  group: ", TopGroupingName(group_),
                                filter_.empty() ? "" : "  filter: " + filter_,
                                "   ? help  q quit");
    const std::string& problem = error_.empty() ? notice_ : error_;
    Put(2, problem.empty() ? status : problem,
        problem.empty() ? A_NORMAL : Color(kRed));
    const int name_w = TopNameWidth(COLS);
    const std::string cols = FormatTopColumns(name_w);
    Put(3, cols, color_ ? COLOR_PAIR(kHeader) : A_REVERSE);
    // The sort column's title, underlined.
    const std::string title = TopColumnTitle(sort_);
    if (auto at = cols.find(title);
        at != std::string::npos && at < static_cast<size_t>(COLS)) {
      attron(A_UNDERLINE | A_BOLD);
      mvaddnstr(3, static_cast<int>(at), title.c_str(), COLS - at);
      attroff(A_UNDERLINE | A_BOLD);
    }
    const int height = std::max(1, LINES - 4);
    if (sel_ < top_) top_ = sel_;
    if (sel_ >= top_ + height) top_ = sel_ - height + 1;
    for (int i = top_; i < int(view_.rows.size()) && i < top_ + height; ++i) {
      PutRow(4 + i - top_, view_.rows[i], name_w, i == sel_);
    }
  }

  void DrawWhy() {
    const WhyView w = BuildWhyView(Prev(), Cur(), group_, detail_);
    const std::string text =
        FormatWhyText(w, std::max(10, std::min(60, COLS - 40)));
    int y = 0;
    for (absl::string_view l : absl::StrSplit(text, '\n')) {
      Put(y++, std::string(l));
    }
    Put(y, "Esc back");
  }

  void DrawDetail() {
    auto rows = BuildSyscallTable(Prev(), Cur(), group_, detail_);
    dsel_ = std::clamp(dsel_, 0, std::max(0, int(rows.size()) - 1));
    Put(0, absl::StrFormat("%s (%s): last %.1fs   Up/Down syscall  Esc back",
                           detail_, TopGroupingName(group_), view_.interval_s));
    Put(1,
        absl::StrFormat("%-18s %8s %7s %-12s %8s %8s %8s", "SYSCALL", "RATE/S",
                        "ERR/S", "TOP_ERRNO", "P50", "P99", "MAX"),
        color_ ? COLOR_PAIR(kHeader) : A_REVERSE);
    const int table_h = std::max(3, (LINES - 4) / 2);
    int y = 2;
    const int first = std::max(0, dsel_ - table_h + 1);
    for (int i = first; i < int(rows.size()) && y < 2 + table_h; ++i, ++y) {
      const TopSyscallRow& r = rows[i];
      Put(y,
          absl::StrFormat("%-18s %8s %7s %-12s %8s %8s %8s", r.name,
                          FormatRate(r.per_s), FormatRate(r.errors_per_s),
                          r.top_errno.empty() ? "-" : r.top_errno,
                          FormatSeconds(r.p50_s), FormatSeconds(r.p99_s),
                          FormatSeconds(r.max_s)),
          i == dsel_ ? A_REVERSE : A_NORMAL);
    }
    if (rows.empty()) Put(y++, "(no syscalls in the interval)");
    y = 3 + table_h;
    if (!rows.empty() && !rows[dsel_].errnos.empty()) {
      std::string line = absl::StrCat("errors of ", rows[dsel_].name, ":");
      for (const auto& [name, per_s] : rows[dsel_].errnos) {
        absl::StrAppend(&line, " ", name, " ", FormatRate(per_s), "/s");
      }
      Put(y++, line);
    }
    if (!rows.empty()) y = DrawHistogram(rows[dsel_], y);
    for (const std::string& l : PeerLines()) Put(y++, l);
  }

  // The selected syscall's latency distribution, one bar per log2 bucket.
  int DrawHistogram(const TopSyscallRow& r, int y) {
    Put(y++, absl::StrCat("latency of ", r.name, ":"), A_BOLD);
    int lo = -1, hi = -1;
    uint64_t most = 0;
    for (int i = 0; i < static_cast<int>(r.hist.size()); ++i) {
      if (!r.hist[i]) continue;
      if (lo < 0) lo = i;
      hi = i;
      most = std::max(most, r.hist[i]);
    }
    const int bar_w = std::max(10, COLS - 40);
    for (int i = lo; i >= 0 && i <= hi && y < LINES - 3; ++i) {
      const int n =
          static_cast<int>(r.hist[i] * bar_w / std::max<uint64_t>(1, most));
      Put(y++,
          absl::StrFormat("  %8s - %-8s %s %d",
                          FormatSeconds(SlotUpperBoundSeconds(i - (i > 0))),
                          FormatSeconds(SlotUpperBoundSeconds(i)),
                          std::string(n, '#'), r.hist[i]));
    }
    return y;
  }

  // Requests by protocol, role, operation and outcome, and TCP peers
  // retransmitting, over the interval.
  std::vector<std::string> PeerLines() const {
    std::map<std::string, uint64_t> http_now, http_before;
    std::map<std::string, uint64_t> retr_now, retr_before;
    auto collect = [&](const Snapshot& s, auto* http, auto* retr) {
      for (const auto& [id, ws] : s.workloads) {
        if (TopGroupName(id, group_) != detail_) continue;
        for (const auto& [k, h] : ws.requests) {
          (*http)[absl::StrCat(k.protocol, k.server ? " served " : " made ",
                               k.operation, " ", k.outcome)] += h.requests;
        }
        for (const auto& [p, t] : ws.tcp) {
          (*retr)[p.remote.empty() ? ":" + p.local_port : p.remote] +=
              t.retrans_segs;
        }
      }
    };
    collect(Prev(), &http_before, &retr_before);
    collect(Cur(), &http_now, &retr_now);
    const double dt = view_.interval_s;
    std::string http = "Requests/s:", tcp = "TCP retransmits/s:";
    for (const auto& [k, n] : http_now) {
      absl::StrAppend(&http, "  ", k, " ",
                      FormatRate((n - std::min(n, http_before[k])) / dt));
    }
    for (const auto& [k, n] : retr_now) {
      const uint64_t d = n - std::min(n, retr_before[k]);
      if (d) absl::StrAppend(&tcp, "  ", k, " ", FormatRate(d / dt));
    }
    return {http_now.empty() ? "Requests/s: -" : http,
            tcp == "TCP retransmits/s:" ? "TCP retransmits/s: 0" : tcp};
  }

  // False to quit.
  bool Key(int ch) {
    notice_.clear();  // shown until the next key
    if (editing_ != Edit::kNone) {
      const bool time = editing_ == Edit::kTime;
      if (ch == '\n' || ch == KEY_ENTER) {
        editing_ = Edit::kNone;
        if (time) {
          auto t =
              ParseHistoryTime(edit_, absl::Now(), absl::LocalTimeZone());
          if (t.ok()) {
            Rewind(*t);
          } else {
            notice_ = std::string(t.status().message());
          }
          return true;
        }
        filter_ = edit_;
      } else if (ch == 27) {
        if (!time) filter_.clear();
        editing_ = Edit::kNone;
      } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        if (!edit_.empty()) edit_.pop_back();
      } else if (ch >= 32 && ch < 127) {
        edit_ += static_cast<char>(ch);
      }
      Rebuild();
      return true;
    }
    const int n = static_cast<int>(view_.rows.size());
    const int page = std::max(1, LINES - 4);
    switch (ch) {
      case 'q':
        return false;
      case '?':
        screen_ = screen_ == Screen::kHelp ? Screen::kMain : Screen::kHelp;
        break;
      case ' ':
        paused_ = !paused_;
        break;
      case 27:
      case KEY_BACKSPACE:
      case 127:
        screen_ = Screen::kMain;
        break;
      case KEY_RESIZE:
        break;  // Draw() reads LINES and COLS
      case '/':
        editing_ = Edit::kFilter;
        edit_ = filter_;
        break;
      case '[':
      case ']':
        Step(ch == '[' ? -1 : 1);
        break;
      case 't':
        editing_ = Edit::kTime;
        edit_.clear();
        break;
      case 'G':
      case 'L':
        Live();
        break;
      case 'g':
        group_ = static_cast<TopGrouping>((static_cast<int>(group_) + 1) % 4);
        sel_ = 0;
        Rebuild();
        break;
      case '<':
      case '>':
      case KEY_F(6): {
        const int d = ch == '<' ? kTopColumns - 1 : 1;
        sort_ =
            static_cast<TopColumn>((static_cast<int>(sort_) + d) % kTopColumns);
        Rebuild();
        break;
      }
      case 'w':
        if (screen_ == Screen::kMain && sel_ < n) {
          detail_ = view_.rows[sel_].name;
          screen_ = Screen::kWhy;
        }
        break;
      case '\n':
      case KEY_ENTER:
        if (screen_ == Screen::kMain && sel_ < n) {
          detail_ = view_.rows[sel_].name;
          dsel_ = 0;
          screen_ = Screen::kDetail;
        }
        break;
      case KEY_UP:
        Move(-1, n);
        break;
      case KEY_DOWN:
        Move(1, n);
        break;
      case KEY_PPAGE:
        Move(-page, n);
        break;
      case KEY_NPAGE:
        Move(page, n);
        break;
      case KEY_HOME:
        Move(-n, n);
        break;
      case KEY_END:
        Move(n, n);
        break;
    }
    return true;
  }

  void Move(int d, int n) {
    if (screen_ == Screen::kDetail) {
      dsel_ = std::max(0, dsel_ + d);
    } else {
      sel_ = std::clamp(sel_ + d, 0, std::max(0, n - 1));
    }
  }

  SnapshotSource* src_;
  const TopScreenOptions opts_;
  TopColumn sort_;
  TopGrouping group_;
  Snapshot prev_, cur_;
  bool have_ = false, ready_ = false, paused_ = false;
  enum class Edit { kNone, kFilter, kTime } editing_ = Edit::kNone;
  bool rewound_ = false;
  HistoryInterval past_;
  TopView view_;
  int sel_ = 0, top_ = 0, dsel_ = 0;
  std::string filter_, edit_, detail_, error_;
  std::string notice_;  // why a rewind failed
  Screen screen_ = Screen::kMain;

 public:
  bool color_ = false;
};

}  // namespace

int RunTopScreen(SnapshotSource* source, const TopScreenOptions& opts,
                 TopColumn sort, TopGrouping group) {
  if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
    std::fputs(
        "redline top: the interactive view needs a terminal; use "
        "--batch (-b) for text or --json\n",
        stderr);
    return 2;
  }
  signal(SIGINT, OnQuit);
  signal(SIGTERM, OnQuit);
  for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) {
    signal(sig, OnFatal);
  }
  std::atexit(Restore);
  initscr();
  g_curses = true;
  cbreak();
  noecho();
  keypad(stdscr, TRUE);
  curs_set(0);
  set_escdelay(25);
  timeout(100);
  Ui ui(source, opts, sort, group);
  // no-color.org: NO_COLOR set to a non-empty value turns colour off.
  const char* no_color = std::getenv("NO_COLOR");
  if (has_colors() && (no_color == nullptr || *no_color == '\0')) {
    start_color();
    use_default_colors();
    init_pair(kRed, COLOR_RED, -1);
    init_pair(kYellow, COLOR_YELLOW, -1);
    init_pair(kHeader, COLOR_BLACK, COLOR_CYAN);
    ui.color_ = true;
  }
  const int rc = ui.Loop();
  Restore();
  return rc;
}

}  // namespace redline
