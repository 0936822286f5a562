# docs_examples_table.py: what test_docs_examples.py needs to run MPIRE's
# documentation examples: the names a fragment uses but the documentation
# defines elsewhere or never, and the examples that cannot run as they
# stand.  Keys are fingerprints of the examples' text (docs_extract.py);
# the comment above each names the section and the example's place in it.
#
# Entry keys: prelude (code run before the example), epilogue (code run
# after it, e.g. printing a value the documentation shows), hints (the
# index of a logical line of the example, comment lines included, from 0
# -> its indentation level, where the text cannot tell), compare
# ('exact', 'shape' when values vary between runs, 'none'), results_printed
# (the epilogue prints what a "results should be" comment shows),
# no_error_expected (with the reason), raises (the exception the text
# around the example says it ends with), needs_cpus, timeout, and
# known_failure (a difference from MPIRE being worked on, with the reason;
# the example then fails as "TODO", and passing is an error).
#
# SPDX-License-Identifier: MIT

# Our own stand-ins for the documentation's undefined names.
_QUICK_TASK = '''
import time
def time_consuming_function(x):
    time.sleep(0.01)
    return x
'''
_SLOW_TASK = '''
import time
def time_consuming_function(x):
    time.sleep(30)
'''
_TASK = '''
def task(x):
    return x
'''
_SQUARE = '''
def square(x):
    return x * x
'''
_MULTIPLY = '''
def multiply(x, y):
    return x * y
'''
_MODEL = '''
import pickle
import numpy as np

class Model:
    def predict(self, x):
        return np.asarray(x).size

with open('a_really_big_model.p3', 'wb') as f:
    pickle.dump(Model(), f)
'''
_ARRAY = '''
import numpy as np
arr = np.random.rand(10, 3)
chunk_size = 3
'''

EXAMPLES = {
    # Getting started #2, #3; Progress bar #1; Worker insights #1
    '84f0c01baa': {'prelude': _QUICK_TASK},
    '3e2e0831b5': {'prelude': _QUICK_TASK},
    '6e17829d6f': {'prelude': 'from mpire_glib import WorkerPool\n' + _QUICK_TASK},
    '3e21e9d9d7': {'prelude': 'from mpire_glib import WorkerPool\n' + _QUICK_TASK},
    # Shared objects #1: main() is defined, not called
    'a37020869a': {'prelude': 'import time\nfrom mpire_glib import WorkerPool\n',
                   'epilogue': 'main()'},
    # Starting a WorkerPool #2
    '2e502e95e4': {'prelude': 'from mpire_glib import WorkerPool\n'},
    # Spawn and forkserver #1
    'bd20474eb4': {
        'prelude': 'from mpire_glib import WorkerPool\n',
        'no_error_expected': "the documentation says failing_job fails under spawn, since "
                             "'os' is not copied; the spawned worker imports the main "
                             "module, 'import os' included, in MPIRE (multiprocessing) as here: "
                             "it fails only for functions defined interactively"},
    # CPU pinning #1
    '7d3838593a': {'prelude': 'from mpire_glib import WorkerPool\n', 'needs_cpus': 60},
    # Accessing the worker ID #1, #2
    '994d3609fb': {'prelude': 'from mpire_glib import WorkerPool\n'},
    'efd24f916b': {'prelude': 'from mpire_glib import WorkerPool\n'
                   'def task(worker_id, x):\n    return worker_id, x\n'},
    # Elaborate example #1
    '305655862e': {'prelude': 'from multiprocessing import Array\n'
                   'from mpire_glib import WorkerPool\n',
                   'epilogue': 'print(sum(results_container))',
                   'compare': 'none'},
    # Copy-on-write alternatives #1
    '97dcfad3d8': {'prelude': 'from mpire_glib import WorkerPool\n', 'epilogue': 'main()'},
    # Worker state #1: the last line belongs to the function, not to the if
    '4d66b5abaf': {'prelude': 'from mpire_glib import WorkerPool\n', 'hints': {3: 1}},
    # Worker state #2
    '6bf226f7a9': {'prelude': 'from mpire_glib import WorkerPool\n'
                   'def task(worker_state, x):\n    worker_state[x] = x\n'},
    # Combining worker state with worker_init and worker_exit #1, with keep_alive #1
    'a02aeaed29': {'prelude': 'from mpire_glib import WorkerPool\n' + _MODEL},
    '2a21a7e7bd': {'prelude': 'from mpire_glib import WorkerPool\n' + _MODEL + '''
def load_big_model(worker_state):
    with open('a_really_big_model.p3', 'rb') as f:
        worker_state['model'] = pickle.load(f)

def model_predict(worker_state, x):
    return worker_state['model'].predict(x)
'''},
    # Keep alive #1, #2; Caveats #1 (exit_func_2 is never defined there)
    'ce1a2d24ea': {'prelude': 'from mpire_glib import WorkerPool\n' + _TASK},
    'dc7bbe93fd': {'prelude': 'from mpire_glib import WorkerPool\n' + _TASK},
    'e5a95d5604': {'prelude': 'from mpire_glib import WorkerPool\n' + _TASK +
                   'def exit_func_2():\n    pass\n'},
    # Worker insights #2, #3 (timings vary: compare the shape)
    'eb50ed03b1': {'prelude': 'from mpire_glib import WorkerPool\n' + _TASK},
    'f5004a8f00': {'prelude': 'from mpire_glib import WorkerPool\n', 'compare': 'shape'},
    # Dill #1; Order tasks #1, #2
    '68981bc95d': {'prelude': 'from mpire_glib import WorkerPool\n'},
    '7563ffdb82': {'prelude': 'from mpire_glib import WorkerPool\n'},
    'a641c3b6a6': {'prelude': 'from mpire_glib import WorkerPool\n' + _TASK},
    # Iterable of arguments #1, #3
    '4ba48e4d17': {'prelude': 'from mpire_glib import WorkerPool\n',
                   'epilogue': 'print(results)', 'results_printed': True},
    'a9654ef0b9': {'prelude': 'from mpire_glib import WorkerPool\n'},
    # Circumvent argument unpacking #1 (a definition only)
    '3c193f56aa': {},
    # Mixing map functions #1; Not exhausting a lazy imap function #1, #2
    '44036b529f': {'prelude': 'from mpire_glib import WorkerPool\n' + _SQUARE + _MULTIPLY},
    'adbc58f004': {'prelude': 'from mpire_glib import WorkerPool\n' + _MULTIPLY},
    '7ebb44726c': {'prelude': 'from mpire_glib import WorkerPool\n' + _MULTIPLY},
    # Progress bar #2; Changing the default style #1
    'f7e60af633': {'prelude': 'from mpire_glib import WorkerPool\n' + _TASK},
    '51219b4fe8': {},
    # Progress bar style #1 (no Jupyter widgets here: the terminal bar)
    '4272c68240': {'prelude': 'from mpire_glib import WorkerPool\n' + _TASK},
    # Progress bar options #1
    'c9a6c7daba': {'prelude': 'from mpire_glib import WorkerPool\n' + _TASK +
                   'some_func = task\nsome_data = range(100)\n'},
    # Progress bar position #1
    'dbd2f19b5d': {'prelude': 'from mpire_glib import WorkerPool\n' + _TASK, 'timeout': 300},
    # Worker init and exit #1
    '4235ada6ea': {'prelude': 'from mpire_glib import WorkerPool\n'},
    # Task chunking #1, #2
    'fe0d4ea5ab': {'prelude': 'from mpire_glib import WorkerPool\n' + _SQUARE},
    '03ab35d8a9': {},
    # Worker lifespan #1
    '8e79462acc': {'prelude': 'from mpire_glib import WorkerPool\n' + _TASK},
    # Timeouts #1: a task slower than the timeout, an init slower than its own
    'dc1a6390c5': {'prelude': 'from mpire_glib import WorkerPool\n' + '''
import time
def time_consuming_function(x):
    time.sleep(30)

def init():
    time.sleep(30)

def exit_():
    pass
'''},
    # imap and imap_unordered #1 (never raises: the generator is not read), #2
    'a9518b6b36': {'prelude': 'from mpire_glib import WorkerPool\n' + _SLOW_TASK},
    '4d5e6d912b': {'prelude': 'from mpire_glib import WorkerPool\n' + _SLOW_TASK,
                   'raises': 'TimeoutError'},
    # Chunking #2 (random data: compare the shape); Return value #1, #2
    'd5121bbcff': {'prelude': _ARRAY, 'compare': 'shape'},
    '7c0a66ee8e': {'prelude': 'from mpire_glib import WorkerPool\n' + _ARRAY,
                   'epilogue': 'print(repr(results))', 'compare': 'shape'},
    'd85247833d': {'prelude': 'from mpire_glib import WorkerPool\n' + _ARRAY +
                   'def add_five(x):\n    return x + 5\n',
                   'epilogue': 'print(repr(results))', 'compare': 'shape'},
    # apply #1; apply_async #1, #3; AsyncResult #1; Callbacks #1
    '0bdc3a23af': {'prelude': 'from mpire_glib import WorkerPool\n'},
    '5d5846bdd2': {'prelude': 'from mpire_glib import WorkerPool\n'},
    '11bcd035d2': {'prelude': 'from mpire_glib import WorkerPool\n'
                   'def task(a, b):\n    return a + b\n'},
    '6e217752a3': {'prelude': 'from mpire_glib import WorkerPool\n'
                   'def task(a, b):\n    return a + b\n',
                   'no_error_expected': 'successful() raises only for a task not done yet; '
                                        'get() waited for it just before'},
    '006836a53c': {'prelude': 'from mpire_glib import WorkerPool\n'},
    # Worker init and exit #2
    '954e9cf44d': {'prelude': 'from mpire_glib import WorkerPool\n'
                   'def task(a):\n    return a + 1\n'},
    # Starting the dashboard #1 (ports vary: compare the shape), #2
    'ae12011053': {'compare': 'shape'},
    '7a3de1cd0b': {'prelude': 'from mpire_glib.dashboard import start_dashboard\n'},
    # Stack level #1
    '0acff81ec7': {},
}

NOT_RUNNABLE = {
    # Worker initialization #1
    '90237ebc04': "the model and the dataset are '...' placeholders (Ellipsis has no "
                  "predict()), in MPIRE as here",
    # Nested WorkerPools #1
    '1812f9c366': "pseudo-code: 'def job(...)' has neither parameters nor a colon",
    # Shared objects #2, #3
    'd014f4fe82': "pseudo-code: assigns to '...'",
    'cc4f9ea5f4': "pseudo-code: assigns to '...'",
    # Iterable of arguments #2
    '56d1dba355': "maps range(int(1e30)) one task a chunk: the documentation says not to run it",
    # Iterable of arguments #4; Circumvent argument unpacking #2, #3
    'c87263514a': "the task list ends with '...' (and so on): that task is Ellipsis, which "
                  "multiply() cannot take, in MPIRE as here",
    '357f887557': "the task list ends with '...' (and so on): that task is Ellipsis, which "
                  "multiply_dict() cannot take, in MPIRE as here",
    'ffe2736486': "the task list ends with '...' (and so on): that task is Ellipsis, which "
                  "multiply_dict() cannot take, in MPIRE as here",
    # Maximum number of active tasks #1
    '6d1be0b4c6': 'maps range(int(1e300)): it never ends, by design of the illustration',
    # Chunking #1
    '8a65a4fbf1': "illustrates itertools.islice: 'yield' outside a function, itertools "
                  "not imported; no MPIRE in it",
    # apply_async #2
    '7987ea3aff': 'shows a deadlock (results read after the pool was left wait forever in '
                  'MPIRE); here get() raises RuntimeError for a task the pool ended, or gives '
                  'the result of one that finished',
    # Connecting to an existing dashboard #1; Using the dashboard #1
    'f6474b6529': 'needs a dashboard already running in another process on port 8081',
    'c688cc9641': 'needs a dashboard already running in another process on port 8099',
    # Unit tests #1, #2
    '4743560839': "a package's setup.py (setuptools' setup(...)); no MPIRE in it",
    'a026a97ad5': 'a line of a traceback the documentation shows, not an example',
}
