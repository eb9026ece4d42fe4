"""layered-text: tokenization, language models and text classifiers."""

from layered.core.lazy import lazy_face

__version__ = "0.1.0"

# each module's public names, imported from it on first use
_NAMES = """
awd_lstm: AWD_LSTM EmbeddingDropout RNNDropout WeightDropout awd_lstm_clas_config awd_lstm_lm_config
blocks: TextBlock
callbacks: ModelResetter RNNCallback RNNRegularizer
dataloaders: TextDataLoaders
errors: TextError
interpret: TextClassificationInterpretation
learner: LMLearner TextLearner decode_spec_tokens language_model_learner match_embeds pretrained_files text_classifier_learner
lm_loader: LMDataLoader
models: LinearDecoder PoolingLinearClassifier SentenceEncoder SequentialRNN awd_lstm_clas_split awd_lstm_lm_split get_language_model get_text_classifier masked_concat_pool register_text_arch text_arch_meta
numericalize: LMTensorText Numericalize TensorText make_vocab
rules: BOS DEFAULT_POST_RULES DEFAULT_RULES EOS FLD PAD SPECIAL_TOKENS TK_MAJ TK_REP TK_UP TK_WREP UNK add_bos add_eos fix_html lowercase replace_all_caps replace_maj replace_rep replace_wrep rm_useless_spaces spec_add_spaces
serving: pad_tokens text_serving_spec
show: show_batch show_results texts_frame
sorted_loader: PadInput PadInputChunk SortedDL pad_input pad_input_chunk
tokenize: tokenize_csv tokenize_df tokenize_folder tokenize_texts
tokenized_files: load_tokenized_csv read_tokens save_tokenized_csv tokenize_files
tokenizer_transform: TextStr TokenList Tokenizer
tokenizers: SentencePieceTokenizer SpacyTokenizer
"""

_PUBLIC, __getattr__, __dir__ = lazy_face(__name__, _NAMES)
__all__ = ["__version__", *_PUBLIC]
