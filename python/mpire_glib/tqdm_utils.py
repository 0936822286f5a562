# tqdm_utils.py: the progress bar styles, and the default one.
#
# SPDX-License-Identifier: MIT

"""Progress bar styles, as in ``mpire.tqdm_utils``.

Set ``PROGRESS_BAR_DEFAULT_STYLE`` to change the style of every map whose
``progress_bar_style`` is None: 'std' (tqdm's terminal bar, the default),
'rich' (tqdm.rich, where rich is installed), 'notebook' (the Jupyter
widget) or 'dashboard' (on the dashboard only).
"""

__all__ = ['PROGRESS_BAR_DEFAULT_STYLE', 'get_tqdm']

PROGRESS_BAR_DEFAULT_STYLE = 'std'

_STYLES = ('std', 'rich', 'notebook', 'dashboard')


def get_tqdm(progress_bar_style=None):
    """The tqdm class of a style (None: the default style); None for
    'dashboard', which draws no bar here. Raises ImportError without tqdm
    and ValueError for an unknown style."""
    style = PROGRESS_BAR_DEFAULT_STYLE if progress_bar_style is None else progress_bar_style
    if style not in _STYLES:
        raise ValueError('progress_bar_style must be one of %s or None, not %r'
                         % (', '.join(_STYLES), style))
    if style == 'dashboard':
        return None
    if style == 'notebook':
        from tqdm import notebook
        if notebook.IProgress is not None:
            return notebook.tqdm
        # No Jupyter widgets (ipywidgets): the terminal bar.
    elif style == 'rich':
        try:
            from tqdm.rich import tqdm
            return tqdm
        except ImportError:
            pass        # rich is not installed: the terminal bar
    from tqdm.std import tqdm
    return tqdm
