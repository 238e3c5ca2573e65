#include "cli/completion_cmd.h"

#include <memory>

namespace arca::cli {
namespace {

constexpr char kBash[] = R"sh(# bash completion for arca; load with: source <(arca completion bash)
_arca() {
  local IFS=$'\n'
  COMPREPLY=($(arca __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _arca arca
)sh";

constexpr char kZsh[] = R"sh(#compdef arca
# zsh completion for arca; load with: source <(arca completion zsh)
_arca() {
  local -a candidates
  candidates=(${(f)"$(arca __complete "${(@)words[2,CURRENT]}" 2>/dev/null)"})
  compadd -a candidates
}
compdef _arca arca
)sh";

constexpr char kFish[] = R"sh(# fish completion for arca; load with: arca completion fish | source
complete -c arca -f -a '(arca __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
)sh";

}  // namespace

void Complete(const CLI::App& app, std::span<const std::string> words, std::ostream& out) {
  const CLI::App* current = &app;
  const std::string prefix = words.empty() ? "" : words.back();
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    for (const CLI::App* sub : current->get_subcommands({})) {
      if (sub->check_name(words[i])) {
        current = sub;
        break;
      }
    }
  }
  if (!prefix.empty() && prefix[0] == '-') {
    for (const CLI::Option* opt : current->get_options({})) {
      for (const std::string& name : opt->get_lnames()) {
        if (("--" + name).starts_with(prefix)) {
          out << "--" << name << "\n";
        }
      }
      for (const std::string& name : opt->get_snames()) {
        if (("-" + name).starts_with(prefix)) {
          out << "-" << name << "\n";
        }
      }
    }
    return;
  }
  for (const CLI::App* sub : current->get_subcommands({})) {
    if (!sub->get_group().empty() && sub->get_name().starts_with(prefix)) {
      out << sub->get_name() << "\n";
    }
  }
}

void AddCompletionCommand(CLI::App& app, CommandContext& ctx) {
  auto shell = std::make_shared<std::string>();
  CLI::App* completion =
      app.add_subcommand("completion", "Print a shell completion script (bash, zsh or fish)");
  completion->add_option("shell", *shell, "The shell")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  completion->callback([shell, &ctx] {
    if (*shell == "bash") {
      ctx.out << kBash;
    } else if (*shell == "zsh") {
      ctx.out << kZsh;
    } else {
      ctx.out << kFish;
    }
  });
}

}  // namespace arca::cli
