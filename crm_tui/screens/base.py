"""What every screen shares: the open crm, and database calls that never block the UI."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from textual.screen import ModalScreen, Screen

from crm_tui.logic.core.errors import CrmError
from crm_tui.screens.styles import styled_as_the_app_is

if TYPE_CHECKING:
    from crm_tui.app import CrmApp
    from crm_tui.logic.core.context import Crm

    # Type checkers see the mixin as the screen it is mixed into; at run time it is a
    # plain class that adds its methods and nothing else to a screen.
    _Screen = Screen[Any]
else:
    _Screen = object


class Calls(_Screen):
    """Runs logic calls in a thread worker and hands the result back on the UI thread.

    ``then`` gets the result; a domain error goes to ``failed`` if given, else to a
    notification. ``key`` makes a call supersede earlier ones with the same key: a
    result that arrives after a newer call started is dropped (typing fast in a filter).
    """

    _generation: dict[str, int]

    if TYPE_CHECKING:

        @property
        def app(self) -> CrmApp: ...  # every screen runs in crm's app

    @property
    def crm(self) -> Crm:
        return self.app.crm

    def call(
        self,
        function: Callable[..., Any],
        *args: Any,
        then: Callable[[Any], object] | None = None,
        failed: Callable[[CrmError], object] | None = None,
        key: str | None = None,
        **kwargs: Any,
    ) -> None:
        generations = vars(self).setdefault("_generation", {})
        token = generations[key] = generations.get(key, 0) + 1 if key else 0

        def work() -> None:
            try:
                result = function(self.crm, *args, **kwargs)
            except CrmError as exc:
                self.app.call_from_thread(self._report, exc, failed)
                return
            if key and generations.get(key) != token:
                return  # a newer call of the same kind has started
            if then is not None:
                try:
                    self.app.call_from_thread(then, result)
                except Exception as error:  # a bug in a screen: say so rather than fail silently
                    self.app.call_from_thread(
                        self.notify, f"{type(error).__name__}: {error}", severity="error"
                    )

        self.run_worker(work, thread=True, group=key or "db", exit_on_error=False)

    def records_changed(self) -> None:
        """Records were changed from elsewhere (an undo, a dialog): show them anew.

        Screens that show records override this to reload what they show, keeping the
        cursor on the record it was on.
        """

    def _report(self, error: CrmError, failed: Callable[[CrmError], object] | None) -> None:
        if failed is not None:
            failed(error)
        else:
            self.notify(str(error), title="Not done", severity="error", timeout=8)


class CrmScreen(Calls, Screen):
    """A full screen of the app."""

    def __init__(self) -> None:
        super().__init__()
        styled_as_the_app_is(self)


ResultType = TypeVar("ResultType")


class CrmModal(Calls, ModalScreen[ResultType]):
    """A dialog over a screen, dismissed with a ``ResultType``."""
