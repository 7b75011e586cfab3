"""Commands whose arguments are random base64url words (a key's kid, a session's sid): such a
word may begin with "-", and click reads "-abhc" as the short options -a -b -h -c. With
ignore_unknown_options it still picks the letters it knows out of the word: a kid "-…h…"
printed the help and exited 0 with nothing withdrawn. Here every word that is not exactly one
of the command's options (with its value) is an argument; `--` is honoured as ever.
Hand-written: click has no setting for it."""

from __future__ import annotations

import click


class VerbatimArguments(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            return super().parse_args(ctx, args)
        takes_value = {name: not (param.is_flag or param.count)
                       for param in self.get_params(ctx) if isinstance(param, click.Option)
                       for name in (*param.opts, *param.secondary_opts)}
        options, words = [], []
        given = iter(args)
        for word in given:
            name = word.split("=", 1)[0] if word.startswith("--") else word
            if name not in takes_value:
                words.append(word)
                continue
            options.append(word)
            if takes_value[name] and "=" not in word and (value := next(given, None)) is not None:
                options.append(value)
        return super().parse_args(ctx, [*options, "--", *words])
