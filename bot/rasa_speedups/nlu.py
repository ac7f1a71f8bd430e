"""Rasa's NLU: models loaded without tracing their training step, messages parsed off the event loop,
sparse features joined without scipy's general `hstack`."""

from __future__ import annotations

import asyncio
import copy
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import numpy as np
import scipy.sparse
import tensorflow as tf
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.core.processor import structlogger as processor_log
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.features import Features
from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel
from scipy.sparse._sputils import get_index_dtype, upcast
from threadpoolctl import threadpool_limits

NLU_THREADS = 2
_nlu = ThreadPoolExecutor(max_workers=NLU_THREADS, thread_name_prefix="nlu")


async def parse_message(
    self: MessageProcessor,
    message: UserMessage,
    tracker: DialogueStateTracker | None = None,
    only_output_properties: bool = True,
) -> dict[str, Any]:
    """Rasa's `MessageProcessor.parse_message`, with the NLU graph run in threads of its own.

    Rasa runs the NLU pipeline on its event loop, so while TensorFlow and NumPy compute (about half of a
    parse, during which they release the GIL) no other conversation moves. In `NLU_THREADS` threads the
    loop serves other conversations meanwhile, and the Rasa process uses a second core. The pipeline's
    components only read their trained state while they parse, so two messages may be parsed at once.
    """
    if self.http_interpreter:
        parse_data = await self.http_interpreter.parse(message)
    else:
        if tracker is None:
            tracker = DialogueStateTracker.from_events(message.sender_id, [])
        parse_data = await asyncio.get_running_loop().run_in_executor(
            _nlu, self._parse_message_with_graph, message, tracker, only_output_properties
        )
    self._update_full_retrieval_intent(parse_data)
    processor_log.debug(
        "processor.message.parse",
        parse_data_text=copy.deepcopy(parse_data["text"]),
        parse_data_intent=parse_data["intent"],
        parse_data_entities=copy.deepcopy(parse_data["entities"]),
    )
    self._check_for_unseen_features(parse_data)
    return cast(dict[str, Any], parse_data)


def single_threaded_ops() -> None:
    """TensorFlow and BLAS run each operation in the thread that asks for it, not spread over pools of their own.

    A message's operations are small (one sentence, a one-layer transformer), so handing them to
    TensorFlow's pools cost more than it saved: DIET's prediction took 13 % less CPU without. The sentence
    encoder already limits BLAS to one thread, but per call, through process-wide state: one NLU thread
    ending its call gave BLAS its threads back while the other still computed, whose embedding then
    differed in the last bits (a parse at the same time as another differed from the same parse alone).
    With BLAS at one thread for the whole process, the per-call limit changes nothing. Messages are still
    parsed two at a time (`NLU_THREADS`); the parses are the same to the last digit (735 sentences
    compared). Once TensorFlow has run an operation its pools are fixed, and they are kept.
    """
    threadpool_limits(limits=1, user_api="blas")
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already started in this process (a test that loaded a model first)
        pass


# How long a thread waiting for the GIL lets another keep it before asking for it (Python's default: 5 ms).
SWITCH_INTERVAL = 0.0005


def hand_over_sooner() -> None:
    """Rasa's event loop waits at most half a millisecond, not five, for an NLU thread to hand the GIL back.

    Each time the loop lets go of the GIL (a database call, a random id, a socket), an NLU thread takes it
    and the loop waited up to the switch interval to get it back: a quarter of the loop's time under load,
    and the loop is what limits Rasa's messages per second. Measured in one running Rasa, switching the
    interval every 10 s under 20 customers: 0.5 ms and 0.2 ms gave 5 to 8 % more messages per second than
    5 ms, 0.1 ms fewer. Only the threads' turns change, not what any of them computes.
    """
    sys.setswitchinterval(SWITCH_INTERVAL)


_rasa_load = RasaModel.load.__func__


def load_model(
    cls: type[RasaModel],
    model_file_name: str,
    model_data_example: RasaModelData,
    predict_data_example: RasaModelData | None = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> RasaModel:
    """Rasa's `RasaModel.load` with its one training step run eagerly instead of traced into a graph.

    To create every weight before loading the saved ones, Rasa trains the new model on one example.
    Keras first traces the whole training step (the model, its loss and its gradients) into a graph,
    which was three quarters of Rasa's start-up here; run eagerly, the step creates the same weights
    in a fraction of the time. They are then overwritten by the saved weights as before, and prediction
    is traced and run as before. Fine-tuning, which trains on afterwards, keeps Rasa's way.
    """
    if finetune_mode:
        loaded = _rasa_load(cls, model_file_name, model_data_example, predict_data_example, True, *args, **kwargs)
        return cast(RasaModel, loaded)
    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)), run_eagerly=True)
    model.fit(RasaBatchDataGenerator(model_data_example, batch_size=1), verbose=False)
    model.run_eagerly = config.get(RUN_EAGERLY)  # what Rasa's compile sets: prediction is traced unless configured
    model.load_weights(model_file_name)
    if predict_data_example:
        model.run_inference(predict_data_example)  # traces prediction now, not on the first message
    return model


def combine_sparse_features(self: Features, additional_features: Features) -> None:
    """Rasa's `Features._combine_sparse_features`, joining the two matrices without scipy's general `hstack`.

    Each message's sparse features from four featurizers are joined pairwise; `hstack` goes through
    `bmat`, built for any grid of blocks, and cost more than the rest of the featurization. For two
    blocks side by side the result is the same COO matrix: the entries of the first block, then those of
    the second with their columns moved right, in the common dtype.
    """
    left, right = self.features.tocoo(), additional_features.features.tocoo()
    if left.shape[0] != right.shape[0]:
        raise ValueError(
            f"Cannot combine sparse features as sequence dimensions do not match: {left.shape[0]} != {right.shape[0]}."
        )
    shape = (left.shape[0], left.shape[1] + right.shape[1])
    index = get_index_dtype((left.row, left.col, right.row, right.col), maxval=max(shape))
    self.features = scipy.sparse.coo_matrix(
        (
            np.concatenate([left.data, right.data]).astype(upcast(left.dtype, right.dtype), copy=False),
            (
                np.concatenate([left.row, right.row]).astype(index, copy=False),
                np.concatenate([left.col, right.col + left.shape[1]]).astype(index, copy=False),
            ),
        ),
        shape=shape,
    )
    self._cached_fingerprint = None
